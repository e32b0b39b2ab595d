"""SegFormer's all-MLP decode head, as designed in the paper and the official code.

Xie et al., "SegFormer: Simple and Efficient Design for Semantic Segmentation with Transformers",
NeurIPS 2021 (github.com/NVlabs/SegFormer). mmseg's ``SegformerHead`` is a different design (a
ConvModule with norm and activation per level, fixed width); this head is the published one, and
it loads SegFormer's own weights (official and HF transformers, see
``pvtv2_dense.checkpoint.hf_segformer``). ``FoldedAllMLPHead`` computes the same function faster
by replacing :meth:`AllMLPHead.decode`; it refuses, when built, a head whose ``decode`` (its
``fuse``, its ``LinearEmbed`` layers, ...) it does not reproduce, so that an edit here is never
silently skipped.
"""

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from torch import nn

from ...errors import ConfigError
from ...registry import register_model
from .. import implementations
from ..utils.pretrained import init_from_pretrained


class LinearEmbed(nn.Module):
    """One plain Linear over the channels of a feature map (no norm, no activation)."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.proj = nn.Linear(in_channels, out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, _, h, w = x.shape
        x = self.proj(x.flatten(2).transpose(1, 2))
        return x.transpose(1, 2).reshape(b, -1, h, w)


@register_model()
class AllMLPHead(BaseDecodeHead):
    """The all-MLP decoder: Linear per level to E channels, upsample to the first level, concat,
    1x1 conv fuse with BN + ReLU, dropout, 1x1 classifier; mmseg's loss.

    ``channels`` is E (the paper's embedding width: 256 for b0/b1, 768 for b2-b5); it is both the
    width of every per-level projection and of the fused map. Levels are upsampled bilinearly with
    ``align_corners=False`` (as the official and HF heads do, whatever ``align_corners`` says; that
    option still governs the final resize of the logits) and concatenated deepest first, so the
    fuse weights of SegFormer checkpoints apply unchanged.

    Args:
        in_channels (Sequence[int]): widths of the input levels (e.g. ``[32, 64, 160, 256]``).
        channels (int): E.
        in_index (Sequence[int]): which backbone outputs to use. Defaults to (0, 1, 2, 3).
        norm_cfg (dict): norm of the fuse layer. Defaults to ``dict(type='LocalSyncBN')``: the
            recipe's SyncBN, which synchronises only in multi-process GPU training and is plain
            batch norm in one process or on CPU.
        **kwargs: the rest of mmseg's ``BaseDecodeHead`` (num_classes, dropout_ratio,
            loss_decode, align_corners, ...).
    """

    # The methods a speed-up may replace (tests/models/test_implementations.py holds them to it).
    SEAMS = ('decode',)

    def __init__(self, in_channels, channels, in_index=(0, 1, 2, 3), norm_cfg=None, **kwargs):
        if norm_cfg is None:
            norm_cfg = dict(type='LocalSyncBN', requires_grad=True)
        in_index = list(in_index)
        if not isinstance(in_channels, (list, tuple)) or len(in_channels) != len(in_index):
            raise ConfigError(
                f'{type(self).__name__}: in_channels {in_channels} must be a list with one width '
                f'per in_index entry {in_index}'
            )
        if kwargs.get('num_classes', 1) < 1:  # e.g. num_classes=len(classes) with no classes
            raise ConfigError(
                f'{type(self).__name__}: num_classes={kwargs["num_classes"]}; expected at least 1 '
                '(list the classes in the config)'
            )
        kwargs.setdefault('input_transform', 'multiple_select')
        super().__init__(
            list(in_channels), channels, in_index=in_index, norm_cfg=norm_cfg, **kwargs
        )
        self.linear_c = nn.ModuleList(LinearEmbed(c, channels) for c in self.in_channels)
        self.linear_fuse = ConvModule(
            channels * len(self.in_channels),
            channels,
            kernel_size=1,
            conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg,
        )

    def init_weights(self):
        """Random init, or ``init_cfg=dict(type='Pretrained', checkpoint=PATH)`` loading the
        decode head of a SegFormer checkpoint (HF, official or ours)."""
        if not init_from_pretrained(self, 'decode_head'):
            super().init_weights()

    def fuse(self, feats):
        """Embed every level, upsample it to the first level's size, concatenate deepest first
        and apply the fuse conv, norm and activation."""
        size = feats[0].shape[2:]
        outs = []
        for feat, embed in zip(feats, self.linear_c):
            x = embed(feat)
            if x.shape[2:] != size:
                x = F.interpolate(x, size=size, mode='bilinear', align_corners=False)
            outs.append(x)
        return self.linear_fuse(torch.cat(outs[::-1], dim=1))

    def decode(self, feats):
        """Class scores (B, K, H_0, W_0) of the selected levels: :meth:`fuse`, dropout and the
        1x1 classifier (a seam: ``FoldedAllMLPHead`` computes it with the fuse folded in)."""
        return self.cls_seg(self.fuse(feats))

    def forward(self, inputs):
        return self.decode(self._transform_inputs(inputs))

    def loss_by_feat(self, seg_logits, batch_data_samples):
        """mmseg's loss; a single loss that computes a decode head's loss itself
        (``decode_head_loss``, e.g. ``FusedCrossEntropyLoss``: the same values without the
        full-size logits) is left to do so."""
        losses = self.loss_decode
        loss = losses[0] if isinstance(losses, nn.ModuleList) and len(losses) == 1 else losses
        own = getattr(loss, 'decode_head_loss', None)
        if own is None:
            return super().loss_by_feat(seg_logits, batch_data_samples)
        return own(self, seg_logits, batch_data_samples)


implementations.register('decode_head', 'AllMLPHead', AllMLPHead)
