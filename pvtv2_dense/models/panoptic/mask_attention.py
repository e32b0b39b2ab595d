"""Panoptic SegFormer's mask attention, plainly written (the published definition); the
``'plain'`` entry of the implementation registry's ``mask_attention`` component
(``mask_impl``). See ``mask_decoder.py`` for the design it follows."""

import torch
import torch.nn.functional as F
from torch import nn

from .. import implementations


class MaskAttention(nn.Module):
    """Multi-head cross-attention that also turns its attention logits into one mask per query.

    Args:
        embed_dims (int): query and key width.
        num_heads (int): attention heads.
        num_levels (int): feature levels among the keys (the first is the mask's grid).
        with_value (bool): also compute the attended values (False for the final mask only).
    """

    # The methods a speed-up may replace (tests/models/test_implementations.py holds them to it).
    SEAMS = ('mask_from_logits',)

    def __init__(self, embed_dims, num_heads, num_levels=3, with_value=True):
        super().__init__()
        self.num_heads = num_heads
        self.scale = (embed_dims // num_heads) ** -0.5
        self.q = nn.Linear(embed_dims, embed_dims)
        self.k = nn.Linear(embed_dims, embed_dims)
        self.with_value = with_value
        if with_value:
            self.v = nn.Linear(embed_dims, embed_dims)
            self.proj = nn.Linear(embed_dims, embed_dims)
        self.level_fcs = nn.ModuleList(nn.Linear(num_heads, num_heads) for _ in range(num_levels))
        self.mask_fc = nn.Linear(num_heads * num_levels, 1)

    def _heads(self, x):
        b, n, c = x.shape
        return x.view(b, n, self.num_heads, c // self.num_heads).transpose(1, 2)

    def mask_from_logits(self, logits, spatial_shapes):
        """(B, heads, N, L) logits -> (B, N, H0 * W0) mask on the first level's grid."""
        b, _, n, _ = logits.shape
        h0, w0 = (int(s) for s in spatial_shapes[0])
        logits = logits.permute(0, 2, 3, 1)  # heads last: the level FCs mix heads per location
        fused, start = [], 0
        for fc, (h, w) in zip(self.level_fcs, spatial_shapes):
            h, w = int(h), int(w)
            level = F.relu(fc(logits[:, :, start : start + h * w]))
            start += h * w
            if (h, w) != (h0, w0):
                level = level.permute(0, 1, 3, 2).reshape(b * n, self.num_heads, h, w)
                level = F.interpolate(level, size=(h0, w0), mode='bilinear', align_corners=False)
                level = level.reshape(b, n, self.num_heads, h0 * w0).permute(0, 1, 3, 2)
            fused.append(level)
        return F.relu(self.mask_fc(torch.cat(fused, -1))).squeeze(-1)

    def forward(self, query, key, value, spatial_shapes, with_mask=True):
        """Args:
            query (Tensor): (B, N, C).
            key (Tensor): (B, L, C), the tokens of ``spatial_shapes`` in order.
            value (Tensor | None): (B, L, C); unused without ``with_value``.
            spatial_shapes (Tensor | list): (levels, 2) heights and widths of the key levels.
            with_mask (bool): compute the mask (False: the values only, mask None).

        Returns:
            tuple: attended values (B, N, C) or None, and the mask (B, N, H0 * W0) or None.
        """
        q, k = self._heads(self.q(query)), self._heads(self.k(key))
        logits = (q @ k.transpose(-2, -1)) * self.scale
        mask = self.mask_from_logits(logits, spatial_shapes) if with_mask else None
        if not self.with_value:
            return None, mask
        out = logits.softmax(-1) @ self._heads(self.v(value))
        out = out.transpose(1, 2).flatten(2)
        return self.proj(out), mask


implementations.register('mask_attention', 'plain', MaskAttention)
