"""Mixup and CutMix over a batch, as the DeiT / PVTv2 ImageNet recipe applies them.

The recipe (timm's ``Mixup`` in ``mode='batch'``): per batch, with probability ``prob`` mix; then
CutMix with probability ``switch_prob``, else Mixup. Mixup blends each image with the batch in
reverse order, weight ``lam ~ Beta(mixup_alpha, mixup_alpha)``; CutMix pastes the reversed
batch's box of area ``1 - lam`` (``lam ~ Beta(cutmix_alpha, cutmix_alpha)``), clipped at the
border, and recomputes ``lam`` from the pasted area. Targets: smoothed one-hot labels mixed with
the same ``lam``.
"""

import numpy as np
import torch

from ...errors import ConfigError


def smoothed_one_hot(labels: torch.Tensor, num_classes: int, smoothing: float) -> torch.Tensor:
    """(B, num_classes) targets: ``1 - smoothing + smoothing / K`` on the label, ``smoothing / K``
    elsewhere."""
    off = smoothing / num_classes
    out = torch.full((len(labels), num_classes), off, device=labels.device)
    return out.scatter_(1, labels.view(-1, 1), 1.0 - smoothing + off)


class BatchMixup:
    """Mixup / CutMix of a normalized batch and its labels.

    Args:
        num_classes (int): number of classes of the soft targets.
        mixup_alpha (float): Beta parameter of Mixup; 0 disables it. Defaults to 0.8.
        cutmix_alpha (float): Beta parameter of CutMix; 0 disables it. Defaults to 1.0.
        prob (float): probability of mixing a batch at all. Defaults to 1.0.
        switch_prob (float): probability of CutMix when both are on. Defaults to 0.5.
        label_smoothing (float): smoothing of the one-hot targets. Defaults to 0.1.
    """

    def __init__(
        self,
        num_classes: int,
        mixup_alpha: float = 0.8,
        cutmix_alpha: float = 1.0,
        prob: float = 1.0,
        switch_prob: float = 0.5,
        label_smoothing: float = 0.1,
    ):
        if mixup_alpha <= 0 and cutmix_alpha <= 0:
            raise ConfigError('BatchMixup: mixup_alpha or cutmix_alpha must be > 0')
        self.num_classes = num_classes
        self.mixup_alpha = mixup_alpha
        self.cutmix_alpha = cutmix_alpha
        self.prob = prob
        self.switch_prob = switch_prob
        self.label_smoothing = label_smoothing

    def _draw(self):
        """(lam, use_cutmix) for one batch."""
        if np.random.rand() >= self.prob:
            return 1.0, False
        if self.mixup_alpha > 0 and self.cutmix_alpha > 0:
            cutmix = np.random.rand() < self.switch_prob
        else:
            cutmix = self.cutmix_alpha > 0
        alpha = self.cutmix_alpha if cutmix else self.mixup_alpha
        return float(np.random.beta(alpha, alpha)), cutmix

    @staticmethod
    def cutmix_box(h: int, w: int, lam: float):
        """A random box of about ``(1 - lam) * h * w`` pixels, clipped: (y0, y1, x0, x1)."""
        ratio = np.sqrt(1.0 - lam)
        cut_h, cut_w = int(h * ratio), int(w * ratio)
        cy, cx = np.random.randint(0, h), np.random.randint(0, w)
        y0, y1 = np.clip(cy - cut_h // 2, 0, h), np.clip(cy + cut_h // 2, 0, h)
        x0, x1 = np.clip(cx - cut_w // 2, 0, w), np.clip(cx + cut_w // 2, 0, w)
        return int(y0), int(y1), int(x0), int(x1)

    def __call__(self, images: torch.Tensor, labels: torch.Tensor):
        """Mix ``images`` (B, C, H, W) in place; returns (images, (B, num_classes) targets)."""
        if len(images) % 2:
            raise ConfigError(
                f'BatchMixup: batch size {len(images)} must be even (each image is mixed with '
                'its mirror in the batch); set train_dataloader.batch_size to an even number '
                'and drop_last=True'
            )
        lam, cutmix = self._draw()
        if lam < 1.0:
            if cutmix:
                y0, y1, x0, x1 = self.cutmix_box(*images.shape[-2:], lam)
                images[:, :, y0:y1, x0:x1] = images.flip(0)[:, :, y0:y1, x0:x1]
                lam = 1.0 - (y1 - y0) * (x1 - x0) / float(images.shape[-2] * images.shape[-1])
            else:
                images = images * lam + images.flip(0) * (1.0 - lam)
        one_hot = smoothed_one_hot(labels, self.num_classes, self.label_smoothing)
        return images, one_hot * lam + one_hot.flip(0) * (1.0 - lam)
