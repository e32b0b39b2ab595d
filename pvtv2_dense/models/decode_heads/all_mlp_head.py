"""SegFormer's all-MLP decode head, as designed in the paper and the official code.

Xie et al., "SegFormer: Simple and Efficient Design for Semantic Segmentation with Transformers".
mmseg's ``SegformerHead`` is a different design (a ConvModule with norm and activation per level,
fixed width); this head is the published one, and it loads SegFormer's own weights (official and
HF transformers, see ``pvtv2_dense.checkpoint.hf_segformer``).
"""

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from ...registry import register_model
from .sync_bn import LocalSyncBatchNorm


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
    1x1 conv fuse with BN + ReLU, dropout, 1x1 classifier.

    ``channels`` is E (the paper's embedding width: 256 for b0/b1, 768 for b2-b5); it is both the
    width of every per-level projection and of the fused map. Levels are upsampled bilinearly with
    ``align_corners=False`` (as the official and HF heads do, whatever ``align_corners`` says; that
    option still governs the final resize of the logits) and concatenated deepest first, so the
    fuse weights of SegFormer checkpoints apply unchanged.

    ``norm_cfg=dict(type='SyncBN')`` (the recipe's) gives a :class:`LocalSyncBatchNorm`: it
    synchronises only in multi-process GPU training and is plain batch norm in a single process
    or on CPU.

    Args:
        in_channels (Sequence[int]): widths of the input levels (e.g. ``[32, 64, 160, 256]``).
        channels (int): E.
        in_index (Sequence[int]): which backbone outputs to use. Defaults to (0, 1, 2, 3).
        norm_cfg (dict): norm of the fuse layer. Defaults to ``dict(type='SyncBN')``.
        fold_fuse (bool): compute the fuse conv folded into the per-level embeddings, before
            upsampling (same function and parameters, several times cheaper at E=768); False
            runs the published order of operations. Defaults to True.
        **kwargs: the rest of mmseg's ``BaseDecodeHead`` (num_classes, dropout_ratio,
            loss_decode, align_corners, ...).
    """

    def __init__(
        self,
        in_channels,
        channels,
        in_index=(0, 1, 2, 3),
        norm_cfg=None,
        fold_fuse=True,
        **kwargs,
    ):
        if norm_cfg is None:
            norm_cfg = dict(type='SyncBN', requires_grad=True)
        in_index = list(in_index)
        if not isinstance(in_channels, (list, tuple)) or len(in_channels) != len(in_index):
            raise ValueError(
                f'AllMLPHead: in_channels {in_channels} must be a list with one width per '
                f'in_index entry {in_index}'
            )
        kwargs.setdefault('input_transform', 'multiple_select')
        super().__init__(
            list(in_channels), channels, in_index=in_index, norm_cfg=norm_cfg, **kwargs
        )
        self.fold_fuse = fold_fuse
        self.linear_c = nn.ModuleList(LinearEmbed(c, channels) for c in self.in_channels)
        self.linear_fuse = ConvModule(
            channels * len(self.in_channels),
            channels,
            kernel_size=1,
            conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg,
        )
        # 'SyncBN' builds torch's SyncBatchNorm (through mmengine's wrapper): swap in the variant
        # that falls back to plain BN when there is nothing to synchronise with.
        name = self.linear_fuse.norm_name if self.linear_fuse.with_norm else None
        norm = getattr(self.linear_fuse, name) if name else None
        if isinstance(norm, nn.SyncBatchNorm) and not isinstance(norm, LocalSyncBatchNorm):
            setattr(self.linear_fuse, name, LocalSyncBatchNorm.from_sync_bn(norm))

    def init_weights(self):
        """Random init, or ``init_cfg=dict(type='Pretrained', checkpoint=PATH)`` loading the
        decode head of a SegFormer checkpoint (HF, official or ours)."""
        if self.init_cfg is not None and self.init_cfg.get('type') == 'Pretrained':
            from ...checkpoint.hf_segformer import load_head_pretrained

            load_head_pretrained(self, self.init_cfg['checkpoint'])
            self._is_init = True
            return
        super().init_weights()

    def _fuse_concat(self, feats, size):
        """The published order of operations: embed, upsample, concat, 1x1 fuse conv."""
        outs = []
        for feat, embed in zip(feats, self.linear_c):
            x = embed(feat)
            if x.shape[2:] != size:
                x = F.interpolate(x, size=size, mode='bilinear', align_corners=False)
            outs.append(x)
        return self.linear_fuse.conv(torch.cat(outs[::-1], dim=1))

    def _foldable_norm(self):
        """The fuse layer's batch norm when it is a fixed affine map (eval mode, running stats)."""
        norm = self.linear_fuse.norm if self.linear_fuse.with_norm else None
        if (
            isinstance(norm, _BatchNorm)
            and not norm.training
            and norm.track_running_stats
            and norm.running_var is not None
        ):
            return norm
        return None

    def _fold_weights(self):
        """The folded parameters: per level the fuse block (E x E), a memo for its composition
        with the level's embedding (E x C_i, filled by :meth:`_composed` for the levels that use
        it), and one bias; eval-mode batch norm is folded in too."""
        conv = self.linear_fuse.conv
        # The concat was deepest first.
        blocks = list(conv.weight.flatten(1).split(self.channels, dim=1))[::-1]
        bias = sum(block @ embed.proj.bias for block, embed in zip(blocks, self.linear_c))
        if conv.bias is not None:
            bias = bias + conv.bias
        norm = self._foldable_norm()
        if norm is not None:
            scale = (norm.running_var + norm.eps).rsqrt()
            shift = -norm.running_mean * scale
            if norm.affine:
                scale, shift = scale * norm.weight, shift * norm.weight + norm.bias
            blocks = [block * scale[:, None] for block in blocks]
            bias = bias * scale + shift
        return blocks, {}, bias, norm is not None

    def _composed(self, composed, blocks, i):
        """Level ``i``'s fuse block times its embedding, computed once per set of weights."""
        if i not in composed:
            composed[i] = blocks[i] @ self.linear_c[i].proj.weight
        return composed[i]

    def _cached_fold(self):
        """:meth:`_fold_weights`, memoised while nothing needs gradients and no parameter or
        running statistic has changed (in-place updates bump a tensor's version)."""
        # Under torch.compile the fold is traced into the graph (data_ptr keys break it).
        if torch.is_grad_enabled() or torch.compiler.is_compiling():
            return self._fold_weights()
        tensors = [t for t in self.linear_fuse.parameters()] + list(self.linear_fuse.buffers())
        tensors += list(self.linear_c.parameters())
        key = (self.training, tuple((t.data_ptr(), t._version) for t in tensors))
        cache = getattr(self, '_fold_cache', None)
        if cache is None or cache[0] != key:
            cache = (key, self._fold_weights())
            self._fold_cache = cache
        return cache[1]

    def _fuse_folded(self, feats, size):
        """The same function as :meth:`_fuse_concat`, computed cheaply; returns the fused map
        after norm and activation as (B, H, W, E) channels-last tokens.

        The fuse conv is linear, so it splits into one E x E block per level; each block composes
        with that level's embedding into a single C_i -> E map, applied at the level's own
        resolution. Bilinear upsampling is linear and preserves constants (its weights sum to
        one), so it commutes with those maps and biases. What is left at 1/4 scale is a sum of
        E-channel maps instead of a (levels x E) -> E convolution: for E=768 that conv was most
        of the model's FLOPs. Eval-mode batch norm folds in as well. The maps stay channels-last
        and are summed in place, as fresh full-size buffers are what the sum costs on CPU. The
        parameters are unchanged (checkpoints load as before) and gradients reach them through
        the composed weights.
        """
        blocks, composed, bias, norm_folded = self._cached_fold()
        grad = torch.is_grad_enabled()
        out = None
        # Deepest first: the full-size level comes last. The bias joins the first (smallest)
        # map, as upsampling carries constants through unchanged.
        for i in reversed(range(len(feats))):
            tokens = feats[i].permute(0, 2, 3, 1)
            b = bias if out is None else None
            full = tokens.shape[1:3] == size
            if tokens.shape[1] * tokens.shape[2] < tokens.shape[3]:
                # Fewer pixels than channels: the two maps in turn cost less than composing them.
                x = F.linear(F.linear(tokens, self.linear_c[i].proj.weight), blocks[i], b)
            elif (
                full
                and out is not None
                and not grad
                and out.is_contiguous(memory_format=torch.channels_last)
            ):
                # Accumulate the full-size level straight into the sum (no gradient to track).
                flat = out.permute(0, 2, 3, 1).view(-1, out.shape[1])
                flat.addmm_(
                    tokens.reshape(-1, tokens.shape[3]), self._composed(composed, blocks, i).t()
                )
                continue
            else:
                x = F.linear(tokens, self._composed(composed, blocks, i), b)
            x = x.permute(0, 3, 1, 2)  # NCHW with channels-last strides: a view
            if not full:
                x = F.interpolate(x, size=size, mode='bilinear', align_corners=False)
            if out is None:
                out = x
            elif out._base is None or not grad:
                # In place on a base tensor; autograd would clone the whole map for a view.
                out = out.add_(x)
            else:
                out = out + x
        if self.linear_fuse.with_norm and not norm_folded:
            out = self.linear_fuse.norm(out)
        if self.linear_fuse.with_activation:
            out = self.linear_fuse.activate(out)
        return out

    def forward(self, inputs):
        feats = self._transform_inputs(inputs)
        size = feats[0].shape[2:]
        if not self.fold_fuse:
            x = self._fuse_concat(feats, size)
            if self.linear_fuse.with_norm:
                x = self.linear_fuse.norm(x)
            if self.linear_fuse.with_activation:
                x = self.linear_fuse.activate(x)
            return self.cls_seg(x)
        x = self._fuse_folded(feats, size)
        # The 1x1 classifier as a Linear over channels-last tokens (no layout copy).
        tokens = x.permute(0, 2, 3, 1)
        weight = self.conv_seg.weight.flatten(1)
        p = self.dropout.p if isinstance(self.dropout, nn.Dropout2d) and self.training else 0
        if p > 0:
            # Dropout2d zeroes whole channels of each sample: the same as zeroing (and
            # rescaling) the classifier's input columns per sample, which spares a full-size
            # masked copy of the map and its gradient.
            keep = torch.empty(x.shape[:2], device=x.device, dtype=weight.dtype)
            keep = keep.bernoulli_(1 - p).div_(1 - p) if p < 1 else keep.zero_()
            weight = weight[None] * keep[:, None, :]  # (B, K, E)
            logits = torch.baddbmm(
                self.conv_seg.bias[None, None], tokens.flatten(1, 2), weight.transpose(1, 2)
            ).view(*tokens.shape[:3], -1)
        else:
            if self.dropout is not None:
                x = self.dropout(x)
                tokens = x.permute(0, 2, 3, 1)
            logits = F.linear(tokens, weight, self.conv_seg.bias)
        # Standard layout for the loss and resizing downstream, which copy channels-last inputs
        # at full resolution otherwise.
        return logits.permute(0, 3, 1, 2).contiguous()
