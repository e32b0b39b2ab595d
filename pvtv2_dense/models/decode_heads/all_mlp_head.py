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
from .sync_bn import LocalSyncBatchNorm, should_sync

# Elements per channel chunk of the fused map on CPU (see AllMLPHead._decode_chunked), and the
# fewest channels a chunk has (so that huge inputs do not make matmuls of a few columns).
_CHUNK_ELEMENTS = 2**21
_MIN_CHUNK_CHANNELS = 16


class LinearEmbed(nn.Module):
    """One plain Linear over the channels of a feature map (no norm, no activation)."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.proj = nn.Linear(in_channels, out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, _, h, w = x.shape
        x = self.proj(x.flatten(2).transpose(1, 2))
        return x.transpose(1, 2).reshape(b, -1, h, w)


def _upsample_into(x, size, buffers, slot):
    """Bilinear resize of ``x`` to ``size`` into ``buffers[slot]``, a channels-last map reused
    while its shape and dtype fit (no autograd: the caller owns what the buffer held)."""
    shape = (*x.shape[:2], *size)
    out = buffers.get(slot)
    if out is None or out.shape != shape or out.dtype != x.dtype:
        out = torch.empty(shape, dtype=x.dtype, device=x.device, memory_format=torch.channels_last)
        buffers[slot] = out
    return torch.ops.aten.upsample_bilinear2d.out(x, list(size), False, out=out)


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

    def _fuse_levels(self, feats, size, fold, chunk=slice(None), embedded=None, buffers=None):
        """The fuse conv's output channels ``chunk`` (before norm and activation) computed as
        :meth:`_fuse_concat` would, cheaply; an NCHW map with channels-last strides.

        The fuse conv is linear, so it splits into one E x E block per level; each block composes
        with that level's embedding into a single C_i -> E map, applied at the level's own
        resolution. Bilinear upsampling is linear and preserves constants (its weights sum to
        one), so it commutes with those maps and biases. What is left at 1/4 scale is a sum of
        E-channel maps instead of a (levels x E) -> E convolution: for E=768 that conv was most
        of the model's FLOPs. Eval-mode batch norm folds in as well (``fold``, from
        :meth:`_cached_fold`). The maps stay channels-last and are summed in place. The
        parameters are unchanged (checkpoints load as before) and gradients reach them through
        the composed weights. ``embedded`` caches the embeddings of levels that apply the two
        maps in turn, for callers computing several chunks. Without autograd, the upsampled maps
        go to two channels-last buffers kept in the ``buffers`` dict across chunks.
        """
        blocks, composed, bias, _ = fold
        embedded = {} if embedded is None else embedded
        grad = torch.is_grad_enabled()
        out = None
        # Deepest first: the full-size level comes last. The bias joins the first (smallest)
        # map, as upsampling carries constants through unchanged.
        for i in reversed(range(len(feats))):
            tokens = feats[i].permute(0, 2, 3, 1)
            b = bias[chunk] if out is None else None
            full = tokens.shape[1:3] == size
            if tokens.shape[1] * tokens.shape[2] < tokens.shape[3]:
                # Fewer pixels than channels: the two maps in turn cost less than composing them.
                if i not in embedded:
                    embedded[i] = F.linear(tokens, self.linear_c[i].proj.weight)
                x = F.linear(embedded[i], blocks[i][chunk], b)
            elif (
                full
                and out is not None
                and not grad
                and out.is_contiguous(memory_format=torch.channels_last)
            ):
                # Accumulate the full-size level straight into the sum (no gradient to track).
                flat = out.permute(0, 2, 3, 1).view(-1, out.shape[1])
                weight = self._composed(composed, blocks, i)[chunk]
                flat.addmm_(tokens.reshape(-1, tokens.shape[3]), weight.t())
                continue
            else:
                x = F.linear(tokens, self._composed(composed, blocks, i)[chunk], b)
            x = x.permute(0, 3, 1, 2)  # NCHW with channels-last strides: a view
            if not full and buffers is not None and not grad:
                x = _upsample_into(x, size, buffers, 'sum' if out is None else 'term')
            elif not full:
                x = F.interpolate(x, size=size, mode='bilinear', align_corners=False)
            if out is None:
                out = x
            elif out._base is None or not grad:
                # In place on a base tensor; autograd would clone the whole map for a view.
                out = out.add_(x)
            else:
                out = out + x
        return out

    def _chunk_norm(self, x):
        """How the fused map's norm runs channel chunk by channel chunk on CPU (see
        :meth:`_decode_chunked`): ``(True, None)`` when there is nothing to apply (no norm, or
        folded), ``(True, norm)`` for batch norm with per-process statistics (it normalises
        each channel on its own), ``(False, None)`` when the whole map must go through it."""
        if x.device.type != 'cpu' or torch.compiler.is_compiling():
            return False, None
        if self.dropout is not None and not isinstance(self.dropout, nn.Dropout2d):
            return False, None
        norm = self.linear_fuse.norm if self.linear_fuse.with_norm else None
        if norm is None or self._foldable_norm() is not None:
            return True, None
        if type(norm) is nn.BatchNorm2d or (
            isinstance(norm, LocalSyncBatchNorm) and not should_sync(x, norm.training)
        ):
            return True, norm
        return False, None

    def _classifier_weight(self, batch):
        """The 1x1 classifier's (K, E) weight; in training with Dropout2d, (B, K, E) per-sample
        weights with the dropped channels' columns zeroed and the rest rescaled."""
        weight = self.conv_seg.weight.flatten(1)
        p = self.dropout.p if isinstance(self.dropout, nn.Dropout2d) and self.training else 0
        if p == 0:
            return weight
        # Dropout2d zeroes whole channels of each sample: the same as zeroing (and rescaling)
        # the classifier's input columns per sample, which spares a full-size masked copy of the
        # map and its gradient.
        keep = weight.new_empty((batch, weight.shape[1]))
        keep = keep.bernoulli_(1 - p).div_(1 - p) if p < 1 else keep.zero_()
        return weight[None] * keep[:, None, :]

    def _classify(self, tokens, weight, logits=None):
        """Classifier scores of (B, N, E') channels-last tokens with (K, E') or (B, K, E')
        weights, added to ``logits`` (B, N, K) when given (in place without autograd; (K, E')
        weights then take :meth:`_decode_chunked`'s NCHW route instead)."""
        if logits is None:
            bias = self.conv_seg.bias
            if weight.dim() == 3:
                return torch.baddbmm(bias[None, None], tokens, weight.transpose(1, 2))
            return F.linear(tokens, weight, bias)
        if weight.dim() == 3:
            if torch.is_grad_enabled():
                return torch.baddbmm(logits, tokens, weight.transpose(1, 2))
            return logits.baddbmm_(tokens, weight.transpose(1, 2))
        return logits + F.linear(tokens, weight)

    def _decode_chunked(self, feats, size, norm):
        """Fuse, norm, activation, dropout and classifier a chunk of the fused map's channels at
        a time, summing the classifier's scores over chunks (it is linear in its input).

        On CPU, a fresh full-size E-channel map (50 MB at E=768, 128x128) is mapped from the
        kernel on every call and pays a page fault per 4 KB, several times per step with its
        gradients; chunks of a few MB are reused from the heap and stay in cache. Batch norm
        normalises each channel on its own, so chunks see the statistics the whole map would.
        """
        # Channels-last once per level, rather than a copy per chunk inside each Linear.
        feats = [f.contiguous(memory_format=torch.channels_last) for f in feats]
        fold = self._cached_fold()
        args = None
        if norm is not None:
            # What _BatchNorm.forward passes to F.batch_norm, the batch counted once.
            factor = 0.0 if norm.momentum is None else norm.momentum
            if norm.training and norm.track_running_stats and norm.num_batches_tracked is not None:
                norm.num_batches_tracked.add_(1)
                if norm.momentum is None:
                    factor = 1.0 / float(norm.num_batches_tracked)
            track = not norm.training or norm.track_running_stats
            stats = (norm.running_mean, norm.running_var) if track else (None, None)
            batch = norm.training or (norm.running_mean is None and norm.running_var is None)
            args = (*stats, norm.weight, norm.bias), (batch, factor, norm.eps)
        weight = self._classifier_weight(feats[0].shape[0])
        n, (h, w) = feats[0].shape[0], size
        step = max(_MIN_CHUNK_CHANNELS, _CHUNK_ELEMENTS // (n * h * w))
        logits, embedded, buffers = None, {}, {}
        # Inference scores go straight into an NCHW map, (K, E') x (E', H*W) per image, summed
        # over chunks by the product itself; the channels-last chunk is the transpose of a
        # contiguous matrix, which the BLAS reads as is. (A 1x1 convolution into channels-last
        # scores, then a layout copy, measured 1.15x slower at b2 and b0.)
        nchw = not torch.is_grad_enabled() and weight.dim() == 2
        for start in range(0, self.channels, step):
            chunk = slice(start, min(start + step, self.channels))
            x = self._fuse_levels(feats, size, fold, chunk, embedded, buffers)
            if args is not None:
                sliced = [t[chunk] if t is not None else None for t in args[0]]
                x = F.batch_norm(x, *sliced, *args[1])
            if self.linear_fuse.with_activation:
                x = self.linear_fuse.activate(x)
            if not nchw:
                tokens = x.permute(0, 2, 3, 1).flatten(1, 2)
                logits = self._classify(tokens, weight[..., chunk], logits)
                continue
            if logits is None:
                logits = self.conv_seg.bias[None, :, None].expand(n, -1, h * w).contiguous()
            for i in range(n):
                logits[i].addmm_(weight[:, chunk], x[i].flatten(1))
        if nchw:
            return logits.view(n, -1, h, w)
        return logits.view(n, h, w, -1).permute(0, 3, 1, 2).contiguous()

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
        chunked, norm = self._chunk_norm(feats[0])
        if chunked:
            return self._decode_chunked(feats, size, norm)
        fold = self._cached_fold()
        x = self._fuse_levels(feats, size, fold)
        if self.linear_fuse.with_norm and not fold[3]:
            x = self.linear_fuse.norm(x)
        if self.linear_fuse.with_activation:
            x = self.linear_fuse.activate(x)
        if self.dropout is not None and not isinstance(self.dropout, nn.Dropout2d):
            x = self.dropout(x)
        # The 1x1 classifier as a Linear over channels-last tokens (no layout copy).
        tokens = x.permute(0, 2, 3, 1)
        logits = self._classify(tokens.flatten(1, 2), self._classifier_weight(x.shape[0]))
        # Standard layout for the loss and resizing downstream, which copy channels-last inputs
        # at full resolution otherwise.
        return logits.view(*tokens.shape[:3], -1).permute(0, 3, 1, 2).contiguous()

    def loss_by_feat(self, seg_logits, batch_data_samples):
        """mmseg's loss (``loss_ce`` and ``acc_seg``, same values and gradients).

        On CPU, with a single :class:`~pvtv2_dense.models.losses.FusedCrossEntropyLoss` and no
        sampler, it is computed without resizing the logits to the label's full size (see its
        ``resized_loss``: fresh full-size buffers are what that resize costs on CPU). Otherwise
        the logits are resized as mmseg does, and the top-1 accuracy comes from an argmax rather
        than mmseg's ``topk`` (2 of the 18 ms of GPU time of a SegFormer-b0 training step on an
        H200) and without its host synchronisations.
        """
        losses = self.loss_decode
        loss = losses[0] if isinstance(losses, nn.ModuleList) and len(losses) == 1 else losses
        seg_label = self._stack_batch_gt(batch_data_samples)
        fused = getattr(loss, 'can_fuse_resize', None)
        if (
            self.sampler is not None
            or seg_logits.device.type != 'cpu'
            or fused is None
            or not fused(seg_logits.shape, seg_label[:, 0].shape, self.align_corners)
        ):
            return self._full_size_loss(seg_logits, seg_label)
        seg_label = seg_label[:, 0]
        value, correct = loss.resized_loss(seg_logits, seg_label, self.ignore_index)
        valid = seg_label != self.ignore_index
        return {loss.loss_name: value, 'acc_seg': self._accuracy(correct, valid)}

    def _full_size_loss(self, seg_logits, seg_label):
        """mmseg's ``loss_by_feat`` on (N, 1, H, W) labels, with an argmax accuracy."""
        seg_logits = F.interpolate(
            seg_logits, seg_label.shape[2:], mode='bilinear', align_corners=self.align_corners
        )
        weight = None if self.sampler is None else self.sampler.sample(seg_logits, seg_label)
        seg_label = seg_label[:, 0]
        decode = self.loss_decode
        losses = {}
        for loss in decode if isinstance(decode, nn.ModuleList) else [decode]:
            value = loss(seg_logits, seg_label, weight=weight, ignore_index=self.ignore_index)
            name = loss.loss_name
            losses[name] = losses[name] + value if name in losses else value
        with torch.no_grad():
            valid = seg_label != self.ignore_index
            correct = ((seg_logits.argmax(1) == seg_label) & valid).sum()
            losses['acc_seg'] = self._accuracy(correct, valid)
        return losses

    @staticmethod
    def _accuracy(correct, valid):
        """mmseg's accuracy from the count of correct pixels and the mask of non-ignored ones:
        percent of the non-ignored pixels, eps-guarded, of shape (1,)."""
        eps = torch.finfo(torch.float32).eps
        return (correct.float().reshape(1) + eps) * (100.0 / (valid.sum() + eps))
