"""Softmax cross-entropy over full-resolution logits without the log-softmax copy.

``F.cross_entropy`` keeps the whole log-softmax of its input for the backward pass and fills a
same-sized zero gradient before scattering into it: at 150 classes x 512 x 512 that is two extra
160 MB buffers and several passes over them per training step. The loss only needs the per-pixel
log-sum-exp; the gradient (softmax minus one-hot) is rebuilt from the logits, which the graph
keeps alive anyway. Same values and gradients, less memory and time.
"""

import torch
import torch.nn.functional as F
from mmseg.models.losses import CrossEntropyLoss
from mmseg.models.losses.cross_entropy_loss import cross_entropy
from mmseg.models.losses.utils import weight_reduce_loss

from ...registry import register_model
from .. import implementations
from .upsampled_cross_entropy import can_band, check_labels, upsampled_cross_entropy


class _PixelCrossEntropy(torch.autograd.Function):
    @staticmethod
    def forward(ctx, logits, label, ignore_index):
        x = logits.float()
        valid = label != ignore_index
        target = torch.where(valid, label, 0).unsqueeze(1)
        lse = torch.logsumexp(x, 1)
        loss = torch.where(valid, lse - x.gather(1, target).squeeze(1), 0.0)
        ctx.save_for_backward(x, lse, target, valid)
        ctx.in_dtype = logits.dtype
        return loss

    @staticmethod
    def backward(ctx, grad_loss):
        x, lse, target, valid = ctx.saved_tensors
        scale = torch.where(valid, grad_loss, 0.0).unsqueeze(1)
        grad = (x - lse.unsqueeze(1)).exp_().mul_(scale)
        grad.scatter_add_(1, target, -scale)
        return grad.to(ctx.in_dtype), None, None


def pixel_cross_entropy(logits, label, ignore_index=-100):
    """Per-element softmax cross-entropy over dim 1, 0 where ``label == ignore_index``: the same
    as ``F.cross_entropy(logits, label, reduction='none', ignore_index=ignore_index)``.

    Args:
        logits (Tensor): (N, C, ...) scores; computed in fp32 whatever their dtype.
        label (Tensor): (N, ...) class indices in [0, C) or ``ignore_index``.
        ignore_index (int): label value that contributes no loss and no gradient.
    """
    check_labels(label, logits.shape[1], ignore_index)
    return _PixelCrossEntropy.apply(logits, label, ignore_index)


def _softmax_cross_entropy(
    pred,
    label,
    weight=None,
    class_weight=None,
    reduction='mean',
    avg_factor=None,
    ignore_index=-100,
    avg_non_ignore=False,
):
    """mmseg's ``cross_entropy`` (same arguments and reduction) on :func:`pixel_cross_entropy`."""
    if class_weight is not None:
        return cross_entropy(
            pred, label, weight, class_weight, reduction, avg_factor, ignore_index, avg_non_ignore
        )
    loss = pixel_cross_entropy(pred, label, ignore_index)
    if avg_factor is None and reduction == 'mean':
        avg_factor = label.numel()
        if avg_non_ignore:
            avg_factor -= (label == ignore_index).sum().item()
    if weight is not None:
        weight = weight.float()
    return weight_reduce_loss(loss, weight=weight, reduction=reduction, avg_factor=avg_factor)


@register_model()
class FusedCrossEntropyLoss(CrossEntropyLoss):
    """mmseg's ``CrossEntropyLoss`` (same arguments, values, gradients and ``loss_ce`` name) whose
    softmax case runs :func:`pixel_cross_entropy`, sparing the full-size log-softmax buffer.

    Sigmoid, mask and class-weighted variants run mmseg's own code.

    A decode head that resizes its logits to the label before the loss leaves its whole loss to
    :meth:`decode_head_loss` (see :class:`~pvtv2_dense.models.decode_heads.AllMLPHead`): the
    same loss and accuracy, computed band by band without the full-size logits where it can.

    Args:
        **kwargs: mmseg ``CrossEntropyLoss`` arguments (use_sigmoid, use_mask, reduction,
            class_weight, loss_weight, loss_name, avg_non_ignore).
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        if not self.use_sigmoid and not self.use_mask:
            self.cls_criterion = _softmax_cross_entropy

    def can_fuse_resize(self, logits_shape, label_shape, align_corners):
        """Whether :meth:`resized_loss` computes this loss for these shapes: plain softmax
        cross-entropy ('mean' reduction, no class weights) of logits resized by an integer
        factor without ``align_corners``."""
        return (
            not self.use_sigmoid
            and not self.use_mask
            and self.class_weight is None
            and self.reduction == 'mean'
            and can_band(logits_shape, label_shape, align_corners)
        )

    def resized_loss(self, logits, label, ignore_index=255):
        """This loss of ``logits`` bilinearly resized to ``label`` (``align_corners=False``),
        without the resized logits; see :meth:`can_fuse_resize`.

        Args:
            logits (Tensor): (N, C, h, w) scores.
            label (Tensor): (N, H, W) class indices, ``H`` an integer multiple of ``h``.
            ignore_index (int): label value with no loss. Defaults to 255.

        Returns:
            tuple[Tensor, Tensor]: the loss (scaled by ``loss_weight``, averaged as mmseg's
            ``cross_entropy`` does) and the number of correctly classified non-ignored pixels.
        """
        total, correct = upsampled_cross_entropy(logits, label, ignore_index)
        if self.avg_non_ignore:
            # mmseg: sum / (non-ignored count + eps).
            count = label.numel() - (label == ignore_index).sum().item()
            loss = total / (count + torch.finfo(torch.float32).eps)
        else:
            loss = total / label.numel()
        return self.loss_weight * loss, correct

    def decode_head_loss(self, head, seg_logits, batch_data_samples):
        """mmseg's ``loss_by_feat`` of a decode head whose only loss this is (``loss_ce`` and
        ``acc_seg``: same values and gradients).

        On CPU, without a sampler and where :meth:`can_fuse_resize` holds, it is computed
        without resizing the logits to the label's full size (:meth:`resized_loss`). Otherwise
        the logits are resized as mmseg does, and the top-1 accuracy comes from an argmax rather
        than mmseg's ``topk``, without host synchronisations.

        Args:
            head (BaseDecodeHead): the head (its sampler, ``align_corners``, ignore index).
            seg_logits (Tensor): (N, C, h, w) scores.
            batch_data_samples (list): the samples with ``gt_sem_seg``.
        """
        seg_label = head._stack_batch_gt(batch_data_samples)
        if (
            head.sampler is not None
            or seg_logits.device.type != 'cpu'
            or not self.can_fuse_resize(seg_logits.shape, seg_label[:, 0].shape, head.align_corners)
        ):
            seg_logits = F.interpolate(
                seg_logits, seg_label.shape[2:], mode='bilinear', align_corners=head.align_corners
            )
            weight = None if head.sampler is None else head.sampler.sample(seg_logits, seg_label)
            seg_label = seg_label[:, 0]
            value = self(seg_logits, seg_label, weight=weight, ignore_index=head.ignore_index)
            with torch.no_grad():
                correct = (
                    (seg_logits.argmax(1) == seg_label) & (seg_label != head.ignore_index)
                ).sum()
        else:
            seg_label = seg_label[:, 0]
            value, correct = self.resized_loss(seg_logits, seg_label, head.ignore_index)
        return {
            self.loss_name: value,
            'acc_seg': _accuracy(correct, seg_label != head.ignore_index),
        }


def _accuracy(correct, valid):
    """mmseg's accuracy from the count of correct pixels and the mask of non-ignored ones:
    percent of the non-ignored pixels, eps-guarded, of shape (1,)."""
    eps = torch.finfo(torch.float32).eps
    return (correct.float().reshape(1) + eps) * (100.0 / (valid.sum() + eps))


def self_check():
    """:class:`FusedCrossEntropyLoss` against mmseg's ``CrossEntropyLoss`` on random float32
    logits with ignored pixels: value and gradient (see
    ``pvtv2_dense.models.implementations.check_same``)."""
    torch.manual_seed(0)
    label = torch.randint(0, 4, (2, 5, 7))
    label[0, :2] = 255
    for options in (dict(), dict(avg_non_ignore=True, loss_weight=0.5)):
        plain, fast = CrossEntropyLoss(**options), FusedCrossEntropyLoss(**options)
        implementations.check_same(
            plain,
            fast,
            [torch.randn(2, 4, 5, 7), label, None, None, None, 255],  # ignore_index=255
            ((False, False), (True, True)),
            torch.float32,  # it computes in float32 whatever the logits' dtype
        )


implementations.register('loss', 'CrossEntropyLoss', None, note="mmseg's")
implementations.register(
    'loss',
    'FusedCrossEntropyLoss',
    FusedCrossEntropyLoss,
    plain='CrossEntropyLoss',
    check=self_check,
)
