"""Data samplers the recipes name by ``type=`` (registered in mmengine's root registry)."""

from .repeat_aug import RepeatAugSampler

__all__ = ['RepeatAugSampler']
