"""The recipe's crops and resizes for classification, as torchvision computes them.

Training: a random crop of 8-100 % of the area and aspect ratio 3/4-4/3, resized to the input
size (``RandomResizedCrop``). Evaluation: the shorter side resized to ``input / 0.875`` (256 for
224), then the central ``input x input`` (``Resize`` + ``CenterCrop``). Resizing goes through
Pillow (bicubic), as the official code's torchvision pipeline does.
"""

import math
import random

import mmcv
from mmcv.transforms import BaseTransform

from ...errors import DataError
from ...registry import register_transform


def _crop(results, top, left, h, w):
    results['img'] = results['img'][top : top + h, left : left + w]
    results['img_shape'] = results['img'].shape[:2]
    return results


@register_transform()
class ClsRandomResizedCrop(BaseTransform):
    """Random area/aspect crop resized to ``size x size`` (torchvision's ``RandomResizedCrop``).

    Args:
        size (int): output side. Defaults to 224.
        scale (tuple[float]): range of the crop area, as a fraction of the image.
        ratio (tuple[float]): range of the aspect ratio (width / height), drawn log-uniformly.
        interpolation (str): Pillow interpolation. Defaults to 'bicubic'.
    """

    def __init__(self, size=224, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3), interpolation='bicubic'):
        self.size = size
        self.scale = scale
        self.ratio = ratio
        self.interpolation = interpolation

    def box(self, h, w):
        """(top, left, height, width) of the crop: 10 tries, then the central best fit."""
        log_ratio = (math.log(self.ratio[0]), math.log(self.ratio[1]))
        for _ in range(10):
            area = h * w * random.uniform(*self.scale)
            aspect = math.exp(random.uniform(*log_ratio))
            cw, ch = int(round(math.sqrt(area * aspect))), int(round(math.sqrt(area / aspect)))
            if 0 < cw <= w and 0 < ch <= h:
                return random.randint(0, h - ch), random.randint(0, w - cw), ch, cw
        if w / h < min(self.ratio):
            cw, ch = w, int(round(w / min(self.ratio)))
        elif w / h > max(self.ratio):
            ch, cw = h, int(round(h * max(self.ratio)))
        else:
            ch, cw = h, w
        return (h - ch) // 2, (w - cw) // 2, ch, cw

    def transform(self, results):
        _crop(results, *self.box(*results['img'].shape[:2]))
        results['img'] = mmcv.imresize(
            results['img'],
            (self.size, self.size),
            interpolation=self.interpolation,
            backend='pillow',
        )
        results['img_shape'] = results['img'].shape[:2]
        return results


@register_transform()
class ClsResizeShortEdge(BaseTransform):
    """Resize so that the shorter side is ``size`` (the longer one truncated, as torchvision).

    Args:
        size (int): the shorter side after resizing. Defaults to 256.
        interpolation (str): Pillow interpolation. Defaults to 'bicubic'.
    """

    def __init__(self, size=256, interpolation='bicubic'):
        self.size = size
        self.interpolation = interpolation

    def transform(self, results):
        h, w = results['img'].shape[:2]
        if h <= w:
            new_h, new_w = self.size, int(self.size * w / h)
        else:
            new_h, new_w = int(self.size * h / w), self.size
        results['img'] = mmcv.imresize(
            results['img'], (new_w, new_h), interpolation=self.interpolation, backend='pillow'
        )
        results['img_shape'] = results['img'].shape[:2]
        return results


@register_transform()
class ClsCenterCrop(BaseTransform):
    """The central ``size x size`` crop, offsets rounded as torchvision's ``CenterCrop``.

    Args:
        size (int): crop side. Defaults to 224.
    """

    def __init__(self, size=224):
        self.size = size

    def transform(self, results):
        h, w = results['img'].shape[:2]
        if h < self.size or w < self.size:
            raise DataError(
                f'{results.get("img_path", "image")}: {h}x{w} is smaller than the {self.size} '
                'crop; resize it first (ClsResizeShortEdge)'
            )
        top, left = int(round((h - self.size) / 2.0)), int(round((w - self.size) / 2.0))
        return _crop(results, top, left, self.size, self.size)
