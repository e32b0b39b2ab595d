"""RandAugment (Cubuk et al. 2020) as the DeiT / PVTv2 recipe sets it: ``rand-m9-mstd0.5-inc1``.

That string (timm's notation) means: two operations per image, drawn uniformly with
replacement from the "increasing" set below, each applied with probability 0.5, at magnitude 9
of 10 plus Gaussian noise of std 0.5 (clipped to [0, 10]) drawn per operation. "Increasing":
every operation gets stronger with the magnitude (posterize keeps fewer bits, solarize lowers
its threshold, enhancements move further from 1 in a random direction). Geometric operations
fill with the ImageNet mean colour and interpolate bicubically. The operations are mmcv's.
"""

import random

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform

from ...errors import ConfigError
from ...registry import register_transform

_MAX_LEVEL = 10.0
# ImageNet mean colour (RGB 124, 116, 104), in mmcv's BGR order.
_FILL = (104, 116, 124)


def _signed(value):
    return value if random.random() < 0.5 else -value


def _solarize_add(img, add, threshold=128):
    shifted = np.clip(img.astype(np.int16) + add, 0, 255).astype(np.uint8)
    return np.where(img < threshold, shifted, img)


def _enhance(fn):
    return lambda img, m: fn(img, 1.0 + _signed(m / _MAX_LEVEL * 0.9))


def _shear(direction):
    return lambda img, m: mmcv.imshear(
        img, _signed(m / _MAX_LEVEL * 0.3), direction, _FILL, interpolation='bicubic'
    )


def _translate(direction):
    def op(img, m):
        size = img.shape[1] if direction == 'horizontal' else img.shape[0]
        offset = _signed(m / _MAX_LEVEL * 0.45) * size
        return mmcv.imtranslate(img, offset, direction, _FILL, interpolation='bicubic')

    return op


# name -> op(img (BGR uint8), magnitude in [0, 10]) -> img
OPS = {
    'AutoContrast': lambda img, m: mmcv.auto_contrast(img),
    'Equalize': lambda img, m: mmcv.imequalize(img),
    'Invert': lambda img, m: mmcv.iminvert(img),
    'Rotate': lambda img, m: mmcv.imrotate(
        img, _signed(m / _MAX_LEVEL * 30.0), border_value=_FILL, interpolation='bicubic'
    ),
    'PosterizeIncreasing': lambda img, m: mmcv.posterize(img, 4 - int(m / _MAX_LEVEL * 4)),
    'SolarizeIncreasing': lambda img, m: mmcv.solarize(img, 256 - int(m / _MAX_LEVEL * 256)),
    'SolarizeAdd': lambda img, m: _solarize_add(img, int(m / _MAX_LEVEL * 110)),
    'ColorIncreasing': _enhance(mmcv.adjust_color),
    'ContrastIncreasing': _enhance(mmcv.adjust_contrast),
    'BrightnessIncreasing': _enhance(mmcv.adjust_brightness),
    'SharpnessIncreasing': _enhance(mmcv.adjust_sharpness),
    'ShearX': _shear('horizontal'),
    'ShearY': _shear('vertical'),
    'TranslateXRel': _translate('horizontal'),
    'TranslateYRel': _translate('vertical'),
}


@register_transform()
class ClsRandAugment(BaseTransform):
    """RandAugment with a noisy magnitude over the increasing operations.

    Args:
        num_ops (int): operations per image. Defaults to 2.
        magnitude (float): mean magnitude, 0-10. Defaults to 9.
        magnitude_std (float): std of the per-operation magnitude noise. Defaults to 0.5.
        prob (float): probability of applying each drawn operation. Defaults to 0.5.
        ops (Sequence[str]): names from :data:`OPS`. Defaults to all of them.
    """

    def __init__(self, num_ops=2, magnitude=9.0, magnitude_std=0.5, prob=0.5, ops=None):
        ops = tuple(ops or OPS)
        unknown = [o for o in ops if o not in OPS]
        if unknown:
            raise ConfigError(
                f'ClsRandAugment: unknown ops {unknown}; expected names of {list(OPS)}'
            )
        self.num_ops = num_ops
        self.magnitude = magnitude
        self.magnitude_std = magnitude_std
        self.prob = prob
        self.ops = ops

    def transform(self, results):
        img = results['img']
        for name in random.choices(self.ops, k=self.num_ops):
            if random.random() > self.prob:
                continue
            m = self.magnitude
            if self.magnitude_std > 0:
                m = random.gauss(m, self.magnitude_std)
            img = OPS[name](img, min(_MAX_LEVEL, max(0.0, m)))
        results['img'] = img
        return results
