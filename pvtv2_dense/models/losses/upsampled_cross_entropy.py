"""Softmax cross-entropy of bilinearly upsampled logits, without the upsampled logits.

A decode head's logits are at 1/4 of the label's resolution; mmseg's ``loss_by_feat`` resizes
them to the label (150 classes x 512 x 512: a 160 MB tensor), takes the loss, then the accuracy
(a ``topk`` over the same tensor), and backpropagates a same-sized gradient through the resize.
Here the label is taken in bands of rows: each band's logits are upsampled from the few
low-resolution rows they depend on, give their loss, accuracy and gradient, and the gradient
goes straight back to the low resolution. Nothing full-size is kept; the loss, accuracy and
gradient are those of the full-size computation.

Bands are exact only when the label's height is an integer multiple ``k`` of the logits' height
(training crops: 512 / 128) and ``align_corners`` is False: a band's rows then sample the
cropped input at the same offsets as the full resize (the same values to rounding; bit for bit
at the training size). :func:`can_band` tells; callers fall back to the full-size path.
"""

import math

import torch
import torch.nn.functional as F

from ...errors import DataError

# Upsampled elements per band (x 4 bytes): small enough to be reused from the heap between
# bands rather than freshly mapped (glibc maps blocks over 32 MB on their own).
_BAND_ELEMENTS = 2**21


def check_labels(label, num_classes, ignore_index):
    """Raise a DataError naming the first label outside [0, num_classes) that is not
    ``ignore_index`` (the softmax cross-entropies here would index out of range with it)."""
    bad = (label != ignore_index) & ((label < 0) | (label >= num_classes))
    if bad.any():
        value = label[bad][0].item()
        raise DataError(
            f'cross-entropy: label {value} outside [0, {num_classes}) and not the ignore index '
            f'{ignore_index} (a label map holds a class beyond num_classes)'
        )


def can_band(logits_shape, label_shape, align_corners):
    """Whether :func:`upsampled_cross_entropy` applies: (N, C, h, w) logits and (N, H, W) labels
    with ``H`` an integer multiple of ``h`` and ``align_corners`` False."""
    h, height = logits_shape[-2], label_shape[-2]
    return not align_corners and height >= h and height % h == 0


def _bands(h, height, rows):
    """(first label row, end label row, first logit row, end logit row) per band of ``rows``
    label rows (a multiple of the factor), with the logit rows each band's resize reads."""
    k = height // h
    for start in range(0, height, rows):
        end = min(start + rows, height)
        # Label row r samples logit row (r + 0.5) / k - 0.5 (clamped at 0) and the next one.
        lo = max(0, math.floor((start + 0.5) / k - 0.5))
        hi = min(h, math.floor((end - 0.5) / k - 0.5) + 2)
        yield start, end, lo, hi


class _UpsampledCrossEntropy(torch.autograd.Function):
    @staticmethod
    def forward(ctx, logits, label, ignore_index):
        n, c, h, w = logits.shape
        height, width = label.shape[-2:]
        k = height // h
        rows = max(k, _BAND_ELEMENTS // (c * width) // k * k)
        need_grad = ctx.needs_input_grad[0]
        grad = torch.zeros(logits.shape, dtype=torch.float32, device=logits.device)
        total = logits.new_zeros((), dtype=torch.float32)
        correct = torch.zeros((), dtype=torch.long, device=logits.device)
        for i in range(n):
            for start, end, lo, hi in _bands(h, height, rows):
                crop = logits[i : i + 1, :, lo:hi].float()
                # Channels-last: the resize and its backward have vectorised kernels for it.
                crop = crop.contiguous(memory_format=torch.channels_last)
                # Sized by the crop, the resize keeps the full one's scale (1 / k) and offsets.
                up = F.interpolate(crop, size=(k * (hi - lo), width), mode='bilinear')
                band = up[:, :, start - k * lo : end - k * lo]
                lab = label[i : i + 1, start:end]
                valid = lab != ignore_index
                target = torch.where(valid, lab, 0).unsqueeze(1)
                peak, pred = band.max(1)
                picked = band.gather(1, target).squeeze(1)
                # Turn the band into its softmax in place: exp(x - max) / sum.
                band.sub_(peak.unsqueeze(1)).exp_()
                norm = band.sum(1)
                lse = peak + norm.log()
                total += torch.where(valid, lse - picked, 0.0).sum()
                correct += ((pred == lab) & valid).sum()
                if not need_grad:
                    continue
                band.div_(norm.unsqueeze(1))
                band.scatter_add_(1, target, torch.full_like(picked, -1.0).unsqueeze(1))
                band.mul_(valid.unsqueeze(1))
                # Rows outside the band belong to the neighbouring bands.
                up[:, :, : start - k * lo].zero_()
                up[:, :, end - k * lo :].zero_()
                grad[i : i + 1, :, lo:hi] += torch.ops.aten.upsample_bilinear2d_backward(
                    up, list(up.shape[2:]), list(crop.shape), False, None, None
                )
        ctx.save_for_backward(grad)
        ctx.in_dtype = logits.dtype
        ctx.mark_non_differentiable(correct)
        return total, correct

    @staticmethod
    def backward(ctx, grad_total, grad_correct):
        (grad,) = ctx.saved_tensors
        return (grad * grad_total).to(ctx.in_dtype), None, None


def upsampled_cross_entropy(logits, label, ignore_index=255):
    """Summed softmax cross-entropy and count of correct argmax predictions of ``logits``
    resized bilinearly (``align_corners=False``) to the label's size, computed band by band.

    Equals ``F.cross_entropy(resize(logits), label, ignore_index=..., reduction='sum')`` and
    ``(resize(logits).argmax(1) == label)[label != ignore_index].sum()``, gradient included.

    Args:
        logits (Tensor): (N, C, h, w) scores; computed in fp32 whatever their dtype.
        label (Tensor): (N, H, W) class indices in [0, C) or ``ignore_index``, with ``H`` an
            integer multiple of ``h`` (see :func:`can_band`).
        ignore_index (int): label value with no loss, no gradient and no accuracy count.
            Defaults to 255.

    Returns:
        tuple[Tensor, Tensor]: the summed loss (fp32 scalar, differentiable) and the number of
        correctly classified non-ignored pixels (long scalar).
    """
    # Callers check can_band first: these are programming errors, not user input.
    if logits.dim() != 4 or label.dim() != 3 or logits.shape[0] != label.shape[0]:
        raise RuntimeError(
            f'upsampled_cross_entropy: expected (N, C, h, w) logits and (N, H, W) labels, got '
            f'{tuple(logits.shape)} and {tuple(label.shape)}'
        )
    if not can_band(logits.shape, label.shape, False):
        raise RuntimeError(
            f'upsampled_cross_entropy: label height {label.shape[-2]} is not a multiple of the '
            f'logits height {logits.shape[-2]}'
        )
    check_labels(label, logits.shape[1], ignore_index)
    return _UpsampledCrossEntropy.apply(logits, label, ignore_index)
