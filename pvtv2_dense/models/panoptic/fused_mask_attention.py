"""A faster and leaner computation of :class:`MaskAttention`'s masks (same weights, same masks).

The plain definition mixes the heads of every level (``Linear(heads, heads) + ReLU``), resizes
the coarser levels' ``heads`` channels to the first level's grid, concatenates the levels and
applies ``Linear(heads * levels, 1)``. That last linear is a sum over levels of one
``heads -> 1`` projection each, and bilinear resizing is linear and acts on each channel alone,
so projecting before resizing gives the same mask: each level is resized as one channel instead
of ``heads``, and the (queries x locations x heads * levels) concatenation, the permuted copies of
the logits and their gradients never exist. The heads are mixed by one matrix product on the
heads-first logits (no permute). Results equal the plain class's up to float rounding
(``tests/models/test_panoptic_fused.py``); selected with ``MaskDecoder(mask_impl='fused')``.
"""

import torch
import torch.nn.functional as F

from .. import implementations
from .mask_attention import MaskAttention


class FusedMaskAttention(MaskAttention):
    """:class:`MaskAttention` (same arguments and parameters) with the mask computed as the
    module docstring says; the attended values are computed as in the plain class."""

    def mask_from_logits(self, logits, spatial_shapes):
        """(B, heads, N, L) logits -> (B, N, H0 * W0) mask on the first level's grid."""
        b, heads, n, _ = logits.shape
        h0, w0 = (int(s) for s in spatial_shapes[0])
        projections = self.mask_fc.weight.view(len(self.level_fcs), heads)
        mask, start = None, 0
        for fc, proj, (h, w) in zip(self.level_fcs, projections, spatial_shapes):
            h, w = int(h), int(w)
            level = logits[..., start : start + h * w].reshape(b, heads, n * h * w)
            start += h * w
            mixed = F.relu(torch.baddbmm(fc.bias[:, None], fc.weight.expand(b, -1, -1), level))
            level = (proj @ mixed).view(b * n, 1, h, w)  # the level's share of mask_fc
            if (h, w) != (h0, w0):
                level = F.interpolate(level, size=(h0, w0), mode='bilinear', align_corners=False)
            mask = level if mask is None else mask + level
        return F.relu(mask.view(b, n, h0 * w0) + self.mask_fc.bias)


def self_check():
    """:class:`FusedMaskAttention` against :class:`MaskAttention` on three small levels, with and
    without values (see ``pvtv2_dense.models.implementations.check_same``)."""
    shapes = torch.tensor([[6, 5], [3, 3], [2, 2]])
    length = int(shapes.prod(1).sum())
    for with_value in (True, False):
        torch.manual_seed(0)
        plain = MaskAttention(8, 2, 3, with_value=with_value)
        fast = FusedMaskAttention(8, 2, 3, with_value=with_value)
        memory = torch.randn(2, length, 8)
        value = memory if with_value else None
        implementations.check_same(plain, fast, [torch.randn(2, 4, 8), memory, value, shapes])


implementations.register(
    'mask_attention', 'fused', FusedMaskAttention, plain='plain', check=self_check
)
