"""The all-MLP head computed faster: the same parameters, function and gradients.

:class:`AllMLPHead` embeds every level to E channels, upsamples, concatenates and applies a
(levels x E) -> E 1x1 convolution at 1/4 scale: for E=768 most of a SegFormer's FLOPs. That
convolution is linear, so it splits into one E x E block per level, and each block composes with
its level's embedding into one C_i -> E map applied at the level's own resolution. Bilinear
upsampling is linear and keeps constants (its weights sum to one), so it commutes with those maps
and their biases: what is left at 1/4 scale is a sum of E-channel maps. Eval-mode batch norm is
an affine map and folds in too, and Dropout2d (whole channels per sample) folds into per-sample
classifier weights. On CPU the map is further computed a chunk of its channels at a time
(:mod:`.folded_chunks`). (The training loss that skips the full-size logits is the loss's:
``FusedCrossEntropyLoss.decode_head_loss``, for this head and the plain one alike.)

:class:`FoldedAllMLPHead` replaces the seam :meth:`AllMLPHead.decode` only (the forward is the
plain head's). A head the fold does not reproduce is refused when it is built, with a one-line
:class:`~pvtv2_dense.errors.ConfigError` naming ``type='AllMLPHead'``: another embedding, a fuse
convolution other than a plain unbiased 1x1 one, a norm other than batch norm, another
activation or dropout, an overridden :meth:`AllMLPHead.fuse`, and, checked on a small probe
input, any head whose plain ``decode`` computes something else (an edited ``fuse``,
``LinearEmbed`` or ``decode``).
"""

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from ...errors import ConfigError
from ...registry import register_model
from .. import implementations
from .all_mlp_head import AllMLPHead, LinearEmbed
from .folded_chunks import decode_in_chunks, fuse_levels, norm_for_chunks

# Activations that act on each element alone, without parameters (chunks of channels and the
# fold's order of operations leave them unchanged).
ELEMENTWISE_ACTIVATIONS = (
    nn.ReLU,
    nn.ReLU6,
    nn.LeakyReLU,
    nn.GELU,
    nn.SiLU,
    nn.ELU,
    nn.Tanh,
    nn.Sigmoid,
    nn.Hardswish,
)


class Fold(NamedTuple):
    """The folded parameters: per level the fuse block (E x E), a memo of its products with the
    level's embedding (E x C_i, filled for the levels that use them), one bias, and whether the
    norm is folded in."""

    blocks: list
    composed: dict
    bias: torch.Tensor
    norm_folded: bool


@register_model()
class FoldedAllMLPHead(AllMLPHead):
    """:class:`AllMLPHead` computed with its fuse convolution folded into the embeddings.

    Same arguments and state dict as :class:`AllMLPHead` (checkpoints are interchangeable); the
    shipped SegFormer configs choose it by ``type='FoldedAllMLPHead'``.

    Raises:
        ConfigError: at build time, for a head the fold cannot compute exactly.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._check_foldable()

    def _refuse(self, what):
        raise ConfigError(
            f'{type(self).__name__} cannot fold {what}; run the plain head instead: '
            "type='AllMLPHead' (--cfg-options model.decode_head.type=AllMLPHead)"
        )

    def _check_foldable(self):
        refuse = self._refuse

        if type(self).fuse is not AllMLPHead.fuse:
            refuse(f'{type(self).__name__}.fuse, which overrides the published one')
        for i, embed in enumerate(self.linear_c):
            if type(embed) is not LinearEmbed:
                refuse(f'linear_c[{i}], a {type(embed).__name__} (only LinearEmbed folds)')
        conv, block = self.linear_fuse.conv, self.linear_fuse
        if type(conv) is not nn.Conv2d or conv.kernel_size != (1, 1) or conv.groups != 1:
            refuse(f'the fuse layer {conv} (only an ungrouped 1x1 nn.Conv2d folds)')
        if conv.stride != (1, 1) or conv.padding != (0, 0) or conv.padding_mode != 'zeros':
            refuse(f'the fuse layer {conv} (only stride 1 without padding folds)')
        if conv.bias is not None:
            refuse('a fuse convolution with a bias')
        if block.order[0] != 'conv' or (block.with_norm and block.order[1] != 'norm'):
            refuse(f'the fuse order {block.order} (conv, then norm and activation, folds)')
        if block.with_norm and not isinstance(block.norm, _BatchNorm):
            refuse(f'the fuse norm {type(block.norm).__name__} (only batch norm folds)')
        if block.with_activation and type(block.activate) not in ELEMENTWISE_ACTIVATIONS:
            refuse(f'the activation {type(block.activate).__name__}')
        if self.dropout is not None and type(self.dropout) is not nn.Dropout2d:
            refuse(f'the dropout {type(self.dropout).__name__} (only Dropout2d folds)')
        if self.conv_seg.kernel_size != (1, 1):
            refuse(f'the classifier {self.conv_seg} (only a 1x1 one folds)')
        self._check_probe()

    def _check_probe(self):
        """Refuse a head whose plain :meth:`AllMLPHead.decode` gives other scores than the fold
        on a small random input in eval mode (catches an edited ``fuse``, ``LinearEmbed`` or
        ``decode`` of the plain head, which the checks above cannot see)."""
        g = torch.Generator().manual_seed(0)
        feats = [
            torch.randn(2, c, -(-5 // 2**i), -(-7 // 2**i), generator=g)
            for i, c in enumerate(self.in_channels)
        ]
        modes = [(m, m.training) for m in self.modules()]
        self.eval()
        try:
            with torch.no_grad():
                ref = AllMLPHead.decode(self, feats)
                out = self.decode(feats)
        finally:
            for m, mode in modes:
                m.training = mode
        if out.shape != ref.shape or (out - ref).abs().max() > 1e-4 * (1 + ref.abs().max()):
            self._refuse(
                'what AllMLPHead.decode computes now (its fuse, LinearEmbed or decode differs '
                'from the published head on a probe input)'
            )

    def frozen_norm(self):
        """The fuse layer's batch norm when it is a fixed affine map (eval mode, running stats)."""
        norm = self.linear_fuse.norm if self.linear_fuse.with_norm else None
        if (
            norm is not None
            and not norm.training
            and norm.track_running_stats
            and norm.running_var is not None
        ):
            return norm
        return None

    def fold(self) -> Fold:
        """The fuse convolution split per level, with the eval-mode batch norm folded in."""
        conv = self.linear_fuse.conv
        # The concat was deepest first.
        blocks = list(conv.weight.flatten(1).split(self.channels, dim=1))[::-1]
        bias = sum(block @ embed.proj.bias for block, embed in zip(blocks, self.linear_c))
        norm = self.frozen_norm()
        if norm is not None:
            scale = (norm.running_var + norm.eps).rsqrt()
            shift = -norm.running_mean * scale
            if norm.affine:
                scale, shift = scale * norm.weight, shift * norm.weight + norm.bias
            blocks = [block * scale[:, None] for block in blocks]
            bias = bias * scale + shift
        return Fold(blocks, {}, bias, norm is not None)

    def classifier_weight(self, batch):
        """The 1x1 classifier's (K, E) weight; in training with Dropout2d, (B, K, E) per-sample
        weights with the dropped channels' columns zeroed and the rest rescaled (the same as
        dropping those channels of the map, without a masked full-size copy)."""
        weight = self.conv_seg.weight.flatten(1)
        p = self.dropout.p if self.dropout is not None and self.training else 0
        if p == 0:
            return weight
        keep = weight.new_empty((batch, weight.shape[1]))
        keep = keep.bernoulli_(1 - p).div_(1 - p) if p < 1 else keep.zero_()
        return weight[None] * keep[:, None, :]

    def classify(self, tokens, weight):
        """Scores of (B, N, E) channels-last tokens with (K, E) or (B, K, E) weights: (B, N, K)."""
        bias = self.conv_seg.bias
        if weight.dim() == 3:
            return torch.baddbmm(bias[None, None], tokens, weight.transpose(1, 2))
        return F.linear(tokens, weight, bias)

    def decode(self, feats):
        """:meth:`AllMLPHead.decode` with the fuse convolution folded in (module docstring)."""
        size = feats[0].shape[2:]
        chunked, norm = norm_for_chunks(self, feats[0])
        if chunked:
            return decode_in_chunks(self, feats, size, norm)
        fold = self.fold()
        x = fuse_levels(self, feats, size, fold)
        if self.linear_fuse.with_norm and not fold.norm_folded:
            x = self.linear_fuse.norm(x)
        if self.linear_fuse.with_activation:
            x = self.linear_fuse.activate(x)
        # The 1x1 classifier as a Linear over channels-last tokens (no layout copy).
        tokens = x.permute(0, 2, 3, 1)
        logits = self.classify(tokens.flatten(1, 2), self.classifier_weight(x.shape[0]))
        # Standard layout for the loss and resizing downstream, which copy channels-last inputs
        # at full resolution otherwise.
        return logits.view(*tokens.shape[:3], -1).permute(0, 3, 1, 2).contiguous()


def self_check():
    """:class:`FoldedAllMLPHead` against :class:`AllMLPHead` on two small levels, with dropout,
    in eval mode and training (see ``pvtv2_dense.models.implementations.check_same``)."""
    options = dict(
        in_channels=[4, 6],
        channels=8,
        in_index=(0, 1),
        num_classes=3,
        dropout_ratio=0.1,
        norm_cfg=dict(type='BN'),
    )
    torch.manual_seed(0)
    plain, fast = AllMLPHead(**options), FoldedAllMLPHead(**options)
    feats = [torch.randn(2, 4, 5, 7, dtype=torch.double), torch.randn(2, 6, 3, 4).double()]
    implementations.check_same(plain, fast, [feats])


implementations.register(
    'decode_head', 'FoldedAllMLPHead', FoldedAllMLPHead, plain='AllMLPHead', check=self_check
)
