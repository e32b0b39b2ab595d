"""Random erasing of normalized images (Zhong et al. 2020), as the DeiT / PVTv2 recipe uses it.

The recipe (timm's ``RandomErasing``, mode 'pixel', one box): with probability ``prob``, up to
10 tries to place a box of area ``U(min_area, max_area)`` of the image and aspect ratio
log-uniform in ``[min_aspect, 1 / min_aspect]``; the first that fits is filled with standard
normal noise, per pixel and channel, in the normalized space.
"""

import math
import random

import torch


class RandomErasing:
    """Erase one random box per image with per-pixel N(0, 1) noise.

    Args:
        prob (float): probability of erasing an image. Defaults to 0.25.
        min_area (float): smallest box area, as a fraction of the image. Defaults to 0.02.
        max_area (float): largest box area fraction. Defaults to 1/3.
        min_aspect (float): smallest aspect ratio; the largest is its inverse. Defaults to 0.3.
    """

    def __init__(self, prob=0.25, min_area=0.02, max_area=1 / 3, min_aspect=0.3):
        self.prob = prob
        self.min_area = min_area
        self.max_area = max_area
        self.log_aspect = (math.log(min_aspect), math.log(1 / min_aspect))

    def erase_(self, image: torch.Tensor) -> torch.Tensor:
        """Erase in place one (C, H, W) image (or leave it, with probability 1 - prob)."""
        if random.random() > self.prob:
            return image
        c, h, w = image.shape
        for _ in range(10):
            area = random.uniform(self.min_area, self.max_area) * h * w
            aspect = math.exp(random.uniform(*self.log_aspect))
            eh, ew = int(round(math.sqrt(area * aspect))), int(round(math.sqrt(area / aspect)))
            if 0 < eh < h and 0 < ew < w:
                y, x = random.randint(0, h - eh), random.randint(0, w - ew)
                noise = torch.randn((c, eh, ew), dtype=image.dtype, device=image.device)
                image[:, y : y + eh, x : x + ew] = noise
                break
        return image

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        for image in images:
            self.erase_(image)
        return images
