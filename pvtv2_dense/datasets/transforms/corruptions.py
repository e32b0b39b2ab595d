"""Image corruptions for robustness tests: the four ImageNet-C families (noise, blur, weather,
digital) at five severities, in numpy / OpenCV, seeded per image.

``ImageCorruption(corruption='gaussian_noise', severity=3)`` goes in a test pipeline right after
the image is loaded; it changes ``results['img']`` only (labels, boxes and depth stay), so every
task's metric scores the corrupted images against the clean ground truth. The same image gets
the same noise in every run (the seed mixes ``seed`` and the image path). The severity
parameters follow the shape of ImageNet-C's (Hendrycks & Dietterich, 2019), re-derived for
these implementations; they are not bit-identical to that benchmark's images.
"""

import zlib

import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from ...errors import ConfigError, did_you_mean
from ...registry import register_transform

# Per corruption: its family and five parameters, one per severity.
CORRUPTIONS = {
    'gaussian_noise': ('noise', (0.04, 0.06, 0.08, 0.09, 0.10)),
    'shot_noise': ('noise', (500, 250, 100, 75, 50)),
    'impulse_noise': ('noise', (0.01, 0.02, 0.03, 0.05, 0.07)),
    'defocus_blur': ('blur', (1, 2, 3, 4, 6)),
    'motion_blur': ('blur', (3, 5, 7, 9, 11)),
    'gaussian_blur': ('blur', (0.8, 1.2, 1.6, 2.2, 3.0)),
    'fog': ('weather', (0.25, 0.35, 0.45, 0.55, 0.65)),
    'brightness': ('weather', (0.1, 0.2, 0.3, 0.4, 0.5)),
    'snow': ('weather', (0.02, 0.04, 0.06, 0.08, 0.10)),
    'contrast': ('digital', (0.4, 0.3, 0.2, 0.1, 0.05)),
    'jpeg_compression': ('digital', (25, 18, 15, 10, 7)),
    'pixelate': ('digital', (0.6, 0.5, 0.4, 0.3, 0.25)),
}
SEVERITIES = (1, 2, 3, 4, 5)


def _disk(radius):
    size = 2 * radius + 1
    kernel = np.zeros((size, size), np.float32)
    cv2.circle(kernel, (radius, radius), radius, 1, -1)
    return kernel / kernel.sum()


def corrupt(img: np.ndarray, corruption: str, severity: int, rng) -> np.ndarray:
    """``img`` (H, W, 3 uint8) corrupted; ``rng`` a numpy Generator (the only randomness)."""
    c = CORRUPTIONS[corruption][1][severity - 1]
    x = img.astype(np.float32) / 255
    h, w = x.shape[:2]
    if corruption == 'gaussian_noise':
        x = x + rng.normal(0, c, x.shape)
    elif corruption == 'shot_noise':
        x = rng.poisson(x * c) / c
    elif corruption == 'impulse_noise':
        hit = rng.random(x.shape[:2]) < c
        x[hit] = rng.integers(0, 2, (int(hit.sum()), 1)).astype(np.float32)
    elif corruption == 'defocus_blur':
        x = cv2.filter2D(x, -1, _disk(int(c)))
    elif corruption == 'motion_blur':
        kernel = np.zeros((int(c), int(c)), np.float32)
        kernel[int(c) // 2] = 1 / c
        angle = rng.uniform(-45, 45)
        rot = cv2.getRotationMatrix2D((c / 2 - 0.5, c / 2 - 0.5), angle, 1)
        kernel = cv2.warpAffine(kernel, rot, kernel.shape)
        x = cv2.filter2D(x, -1, kernel / max(kernel.sum(), 1e-6))
    elif corruption == 'gaussian_blur':
        x = cv2.GaussianBlur(x, (0, 0), c)
    elif corruption == 'fog':
        haze = cv2.resize(rng.random((4, 4)).astype(np.float32), (w, h), cv2.INTER_CUBIC)
        x = x * (1 - c) + c * (0.6 + 0.4 * haze[..., None])
    elif corruption == 'brightness':
        hsv = cv2.cvtColor(np.clip(x, 0, 1), cv2.COLOR_BGR2HSV)
        hsv[..., 2] = np.clip(hsv[..., 2] + c, 0, 1)
        x = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)
    elif corruption == 'snow':
        flakes = (rng.random((h, w)) < c).astype(np.float32)
        flakes = cv2.GaussianBlur(flakes, (0, 0), 0.7) * 3
        x = x * (1 - 2 * c) + 2 * c * 0.8  # the grey-white cast of snowfall
        x = np.maximum(x, np.clip(flakes, 0, 1)[..., None])
    elif corruption == 'contrast':
        mean = x.mean(axis=(0, 1), keepdims=True)
        x = (x - mean) * c + mean
    elif corruption == 'jpeg_compression':
        _, buf = cv2.imencode('.jpg', img, [cv2.IMWRITE_JPEG_QUALITY, int(c)])
        return cv2.imdecode(buf, cv2.IMREAD_COLOR)
    elif corruption == 'pixelate':
        small = cv2.resize(x, (max(1, int(w * c)), max(1, int(h * c))), cv2.INTER_AREA)
        x = cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)
    return (np.clip(x, 0, 1) * 255).round().astype(np.uint8)


@register_transform()
class ImageCorruption(BaseTransform):
    """Corrupt ``results['img']`` with one corruption at one severity.

    Args:
        corruption (str): a key of :data:`CORRUPTIONS` (or ``'none'``: unchanged).
        severity (int): 1 (mild) to 5 (severe).
        seed (int): mixed with the image path, so each image gets its own fixed noise.

    Raises:
        ConfigError: an unknown corruption or a severity outside 1-5.
    """

    def __init__(self, corruption: str, severity: int = 3, seed: int = 0):
        if corruption != 'none' and corruption not in CORRUPTIONS:
            raise ConfigError(
                f"ImageCorruption: corruption='{corruption}', expected one of "
                f'{", ".join(CORRUPTIONS)}' + did_you_mean(corruption, CORRUPTIONS)
            )
        if severity not in SEVERITIES:
            raise ConfigError(f'ImageCorruption: severity={severity!r}, expected 1 to 5')
        self.corruption, self.severity, self.seed = corruption, severity, seed

    def transform(self, results: dict) -> dict:
        if self.corruption == 'none':
            return results
        key = f'{self.seed}:{results.get("img_path", "")}'.encode()
        rng = np.random.default_rng(zlib.crc32(key))
        img = results['img']
        gray = img.ndim == 2
        img3 = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR) if gray else img
        out = corrupt(img3, self.corruption, self.severity, rng)
        results['img'] = cv2.cvtColor(out, cv2.COLOR_BGR2GRAY) if gray else out
        return results

    def __repr__(self):
        return f'{type(self).__name__}({self.corruption}, severity={self.severity})'
