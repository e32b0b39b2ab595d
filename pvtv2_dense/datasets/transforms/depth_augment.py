"""GLPDepth's training augmentations that mmseg lacks or gets wrong for depth.

- ``VerticalCutDepth``: paste the depth map (scaled to the image's 0-255 range) over a random
  full-height strip of the image (Ishii & Yamashita, "CutDepth", 2021; used by GLPN).
  mmseg's ``RandomDepthMix`` draws the same strip but writes raw depth values (e.g. NYU
  millimetres) into the uint8 image, where they wrap around; this one scales them.
- ``DepthPhotometric``: brightness/contrast, gamma and HSV jitter with GLPDepth's ranges (it
  uses albumentations, which mmseg only wraps and our environment does not install).

Both change only the image: the depth, the geometry and the metadata stay as they are.
GLPDepth's order (``BaseDataset.augment_training_data``) is CutDepth on the whole frame, then
flip, random crop and the photometric jitter, so the strip's width is drawn on the full frame
width, the crop may leave it out, and the jitter alters the pasted strip too; the NYU and KITTI
configs keep that order.
"""

import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from ...errors import ConfigError, DataError
from ...registry import register_transform


@register_transform()
class VerticalCutDepth(BaseTransform):
    """Replace a random vertical strip of the image by the (scaled) ground-truth depth.

    The strip starts at ``left = a * W`` and is ``max(1, (W - left) * b * p)`` wide, with
    ``a, b ~ U(0, 1)``, as in GLPDepth.

    Args:
        prob (float): probability of applying it to a sample. GLPDepth applies it to every
            fourth sample (0.25).
        p (float): the largest strip width as a fraction of the remaining width (GLPN: 0.75).
        max_depth (float): depth (in ``gt_depth_map`` units, metres after mmseg's
            ``depth_rescale_factor``) that maps to 255 in the image.
    """

    def __init__(self, prob: float = 0.25, p: float = 0.75, max_depth: float = 10.0):
        super().__init__()
        if not 0.0 <= prob <= 1.0 or not 0.0 < p <= 1.0:
            raise ConfigError(
                f'VerticalCutDepth: need 0 <= prob <= 1 and 0 < p <= 1, got {prob}, {p}'
            )
        if not max_depth > 0:
            raise ConfigError(f'VerticalCutDepth: max_depth must be > 0, got {max_depth}')
        self.prob, self.p, self.max_depth = prob, p, max_depth

    def transform(self, results: dict) -> dict:
        if 'gt_depth_map' not in results:
            raise ConfigError(
                'VerticalCutDepth needs gt_depth_map: put it after LoadCheckedDepthAnnotation '
                '(or LoadDepthAnnotation) in the pipeline'
            )
        if np.random.rand() >= self.prob:
            return results
        img, depth = results['img'], results['gt_depth_map']
        w = img.shape[1]
        left = int(np.random.rand() * w)
        width = int(max(1, (w - left) * np.random.rand() * self.p))
        strip = np.clip(depth[:, left : left + width] / self.max_depth * 255.0, 0, 255)
        img = img.copy()
        img[:, left : left + width] = strip.astype(img.dtype)[..., None] if img.ndim == 3 else strip
        results['img'] = img
        return results

    def __repr__(self):
        return f'{type(self).__name__}(prob={self.prob}, p={self.p}, max_depth={self.max_depth})'


@register_transform()
class DepthPhotometric(BaseTransform):
    """GLPDepth's photometric jitter; each part is applied independently with ``prob``.

    Args:
        prob (float): probability of each of the three parts.
        brightness (float): brightness offset range, as a fraction of 255 (+-).
        contrast (float): contrast gain range (1 +- contrast).
        gamma (tuple[float, float]): range of the gamma exponent.
        hue (int): hue shift range in OpenCV units (0-180 per turn).
        saturation (int): saturation shift range (0-255 units).
        value (int): value shift range (0-255 units).
    """

    def __init__(
        self,
        prob: float = 0.5,
        brightness: float = 0.2,
        contrast: float = 0.2,
        gamma=(0.8, 1.2),
        hue: int = 20,
        saturation: int = 30,
        value: int = 20,
    ):
        super().__init__()
        if not 0.0 <= prob <= 1.0:
            raise ConfigError(f'DepthPhotometric: prob must be in [0, 1], got {prob}')
        if not 0 < gamma[0] <= gamma[1]:
            raise ConfigError(f'DepthPhotometric: gamma must be (low, high) > 0, got {gamma}')
        self.prob, self.brightness, self.contrast, self.gamma = prob, brightness, contrast, gamma
        self.hue, self.saturation, self.value = hue, saturation, value

    def _brightness_contrast(self, img):
        gain = 1.0 + np.random.uniform(-self.contrast, self.contrast)
        offset = 255.0 * np.random.uniform(-self.brightness, self.brightness)
        return img * gain + offset

    def _gamma(self, img):
        return 255.0 * (np.clip(img, 0, 255) / 255.0) ** np.random.uniform(*self.gamma)

    def _hsv(self, img):
        hsv = cv2.cvtColor(np.clip(img, 0, 255).astype(np.uint8), cv2.COLOR_BGR2HSV).astype(int)
        hsv[..., 0] = (hsv[..., 0] + np.random.randint(-self.hue, self.hue + 1)) % 180
        hsv[..., 1] += np.random.randint(-self.saturation, self.saturation + 1)
        hsv[..., 2] += np.random.randint(-self.value, self.value + 1)
        hsv = np.clip(hsv, 0, 255).astype(np.uint8)
        return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR).astype(np.float32)

    def transform(self, results: dict) -> dict:
        img = results['img']
        if img.ndim != 3 or img.shape[2] != 3:
            raise DataError(
                f'{results.get("img_path", "image")}: DepthPhotometric expects a BGR image, got '
                f'shape {img.shape}'
            )
        out = img.astype(np.float32)
        for part in (self._brightness_contrast, self._gamma, self._hsv):
            if np.random.rand() < self.prob:
                out = part(out)
        results['img'] = np.clip(out, 0, 255).astype(img.dtype)
        return results

    def __repr__(self):
        return (
            f'{type(self).__name__}(prob={self.prob}, brightness={self.brightness}, '
            f'contrast={self.contrast}, gamma={self.gamma}, hue={self.hue}, '
            f'saturation={self.saturation}, value={self.value})'
        )
