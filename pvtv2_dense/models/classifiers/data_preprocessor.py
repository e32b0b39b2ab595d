"""Data preprocessor of the classifier: normalize, then the recipe's batch augmentations."""

import torch
from mmengine.model import ImgDataPreprocessor

from ...registry import register_model
from .mixup import BatchMixup
from .random_erasing import RandomErasing


@register_model()
class ClsDataPreprocessor(ImgDataPreprocessor):
    """mmengine's image preprocessor plus, in training, random erasing and Mixup/CutMix.

    The order is the recipe's: normalize, erase (per image), mix (per batch). With Mixup each
    sample gets a ``gt_score`` (soft target) that the classifier's loss uses.

    Args:
        mean, std (Sequence[float]): per-channel normalization, on the 0-255 scale.
        bgr_to_rgb (bool): images are loaded BGR by mmcv; the models take RGB. Defaults to True.
        random_erasing (dict, optional): :class:`RandomErasing` options. Defaults to None.
        mixup (dict, optional): :class:`BatchMixup` options (``num_classes`` included).
            Defaults to None.
        **kwargs: other :class:`ImgDataPreprocessor` options (pad_size_divisor, ...).
    """

    def __init__(
        self,
        mean=(123.675, 116.28, 103.53),
        std=(58.395, 57.12, 57.375),
        bgr_to_rgb: bool = True,
        random_erasing: dict | None = None,
        mixup: dict | None = None,
        **kwargs,
    ):
        super().__init__(mean=mean, std=std, bgr_to_rgb=bgr_to_rgb, **kwargs)
        self.random_erasing = RandomErasing(**random_erasing) if random_erasing else None
        self.mixup = BatchMixup(**mixup) if mixup else None

    def forward(self, data: dict, training: bool = False) -> dict:
        data = super().forward(data, training)
        if not training:
            return data
        inputs, samples = data['inputs'], data['data_samples']
        if self.random_erasing is not None:
            inputs = self.random_erasing(inputs)
        if self.mixup is not None:
            labels = torch.cat([s.gt_label.view(-1) for s in samples]).to(inputs.device)
            inputs, scores = self.mixup(inputs, labels)
            for sample, score in zip(samples, scores):
                sample.set_field(score, 'gt_score')
        return dict(inputs=inputs, data_samples=samples)
