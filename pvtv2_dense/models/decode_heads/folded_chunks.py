"""The folded all-MLP head's sum of levels, and its CPU route a chunk of channels at a time.

:func:`fuse_levels` computes output channels of the fuse convolution (before norm and
activation) from the folded parameters of :class:`FoldedAllMLPHead`, as an NCHW map with
channels-last strides. :func:`decode_in_chunks` runs fuse, norm, activation, dropout and
classifier over a chunk of the fused map's channels at a time and sums the classifier's scores
over the chunks (the classifier is linear in its input). On CPU a fresh full-size E-channel map
(50 MB at E=768, 128x128) is mapped from the kernel on every call and pays a page fault per
4 KB; chunks of a few MB are reused from the heap and stay in cache. Batch norm normalises each
channel on its own, so the chunks see the statistics the whole map would.
"""

import torch
import torch.nn.functional as F
from torch import nn

from ..layers.sync_bn import LocalSyncBatchNorm, should_sync

# Elements per channel chunk of the fused map, and the fewest channels a chunk has (so that huge
# inputs do not make matrix products of a few columns).
CHUNK_ELEMENTS = 2**21
MIN_CHUNK_CHANNELS = 16
CL = torch.channels_last


def _composed(head, fold, i):
    """Level ``i``'s fuse block times its embedding, computed once per fold."""
    if i not in fold.composed:
        fold.composed[i] = fold.blocks[i] @ head.linear_c[i].proj.weight
    return fold.composed[i]


def _upsample_into(x, size, buffers, slot):
    """Bilinear resize of ``x`` to ``size`` into ``buffers[slot]``, a channels-last map reused
    while its shape and dtype fit (no autograd: the caller owns what the buffer held)."""
    shape = (*x.shape[:2], *size)
    out = buffers.get(slot)
    if out is None or out.shape != shape or out.dtype != x.dtype:
        out = torch.empty(shape, dtype=x.dtype, device=x.device, memory_format=torch.channels_last)
        buffers[slot] = out
    return torch.ops.aten.upsample_bilinear2d.out(x, list(size), False, out=out)


def fuse_levels(head, feats, size, fold, chunk=slice(None), embedded=None, buffers=None):
    """The fuse convolution's output channels ``chunk`` (before norm and activation).

    Args:
        head (FoldedAllMLPHead): whose embeddings and fold are used.
        feats (list[Tensor]): the levels, (B, C_i, H_i, W_i).
        size (tuple[int, int]): the first level's size.
        fold (Fold): from ``head.fold()``.
        chunk (slice): output channels to compute.
        embedded (dict, optional): embeddings of the levels that apply embedding and block in
            turn, kept across chunks by the caller.
        buffers (dict, optional): without autograd, two channels-last maps reused for the
            upsampled levels across chunks.
    """
    embedded = {} if embedded is None else embedded
    grad = torch.is_grad_enabled()
    out = None
    # Deepest first: the full-size level comes last. The bias joins the first (smallest) map, as
    # upsampling carries constants through unchanged.
    for i in reversed(range(len(feats))):
        tokens = feats[i].permute(0, 2, 3, 1)
        bias = fold.bias[chunk] if out is None else None
        full = tokens.shape[1:3] == size
        if tokens.shape[1] * tokens.shape[2] < tokens.shape[3]:
            # Fewer pixels than channels: the two maps in turn cost less than composing them.
            if i not in embedded:
                embedded[i] = F.linear(tokens, head.linear_c[i].proj.weight)
            x = F.linear(embedded[i], fold.blocks[i][chunk], bias)
        elif full and out is not None and not grad and out.is_contiguous(memory_format=CL):
            # Accumulate the full-size level straight into the sum (no gradient to track).
            flat = out.permute(0, 2, 3, 1).view(-1, out.shape[1])
            flat.addmm_(tokens.reshape(-1, tokens.shape[3]), _composed(head, fold, i)[chunk].t())
            continue
        else:
            x = F.linear(tokens, _composed(head, fold, i)[chunk], bias)
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


def norm_for_chunks(head, x):
    """Whether :func:`decode_in_chunks` applies, and the norm it runs per chunk.

    Returns ``(True, None)`` when there is nothing to apply per chunk (no norm, or one folded
    in), ``(True, norm)`` for batch norm with per-process statistics, ``(False, None)`` where the
    whole map must go through the norm (synchronised batch norm) or off the CPU.
    """
    if x.device.type != 'cpu' or torch.compiler.is_compiling():
        return False, None
    norm = head.linear_fuse.norm if head.linear_fuse.with_norm else None
    if norm is None or head.frozen_norm() is not None:
        return True, None
    if type(norm) is nn.BatchNorm2d or (
        isinstance(norm, LocalSyncBatchNorm) and not should_sync(x, norm.training)
    ):
        return True, norm
    return False, None


def _batch_norm_args(norm):
    """What ``_BatchNorm.forward`` passes to ``F.batch_norm``, the batch counted once."""
    factor = 0.0 if norm.momentum is None else norm.momentum
    if norm.training and norm.track_running_stats and norm.num_batches_tracked is not None:
        norm.num_batches_tracked.add_(1)
        if norm.momentum is None:
            factor = 1.0 / float(norm.num_batches_tracked)
    track = not norm.training or norm.track_running_stats
    stats = (norm.running_mean, norm.running_var) if track else (None, None)
    batch = norm.training or (norm.running_mean is None and norm.running_var is None)
    return (*stats, norm.weight, norm.bias), (batch, factor, norm.eps)


def decode_in_chunks(head, feats, size, norm):
    """The head's logits (N, K, H, W), a chunk of the fused map's channels at a time.

    Args:
        head (FoldedAllMLPHead): the head.
        feats (list[Tensor]): the levels.
        size (tuple[int, int]): the first level's size.
        norm (nn.Module | None): batch norm to apply per chunk (see :func:`norm_for_chunks`).
    """
    # Channels-last once per level, rather than a copy per chunk inside each Linear.
    feats = [f.contiguous(memory_format=torch.channels_last) for f in feats]
    fold = head.fold()
    args = None if norm is None else _batch_norm_args(norm)
    weight = head.classifier_weight(feats[0].shape[0])
    n, (h, w) = feats[0].shape[0], size
    step = max(MIN_CHUNK_CHANNELS, CHUNK_ELEMENTS // (n * h * w))
    logits, embedded, buffers = None, {}, {}
    grad = torch.is_grad_enabled()
    # Inference scores go straight into an NCHW map, (K, E') x (E', H*W) per image, summed over
    # chunks by the product itself: the channels-last chunk is the transpose of a contiguous
    # matrix, which the BLAS reads as is (no layout copy of the logits).
    nchw = not grad and weight.dim() == 2
    for start in range(0, head.channels, step):
        chunk = slice(start, min(start + step, head.channels))
        x = fuse_levels(head, feats, size, fold, chunk, embedded, buffers)
        if args is not None:
            sliced = [t[chunk] if t is not None else None for t in args[0]]
            x = F.batch_norm(x, *sliced, *args[1])
        if head.linear_fuse.with_activation:
            x = head.linear_fuse.activate(x)
        if nchw:
            if logits is None:
                logits = head.conv_seg.bias[None, :, None].expand(n, -1, h * w).contiguous()
            for i in range(n):
                logits[i].addmm_(weight[:, chunk], x[i].flatten(1))
            continue
        tokens = x.permute(0, 2, 3, 1).flatten(1, 2)
        if logits is None:
            logits = head.classify(tokens, weight[..., chunk])
        elif weight.dim() == 2:
            logits = logits + F.linear(tokens, weight[:, chunk])
        elif grad:
            logits = torch.baddbmm(logits, tokens, weight[..., chunk].transpose(1, 2))
        else:
            logits = logits.baddbmm_(tokens, weight[..., chunk].transpose(1, 2))
    if nchw:
        return logits.view(n, -1, h, w)
    return logits.view(n, h, w, -1).permute(0, 3, 1, 2).contiguous()
