"""Synthetic ImageNet-layout classification: ten classes of textured shapes.

Each image is a textured background with one shape of its class (disk, square, triangle,
ring, cross, diamond, horizontal bar, vertical bar, half-disk, L) at a random place, size and
texture; each class has its own colour family, so a small model learns the set in minutes.

Layout (as mmpretrain's ``ImageNet`` and our ``ImageNetFolder`` read it)::

    imagenet/train/{wnid}/{wnid}_{n}.JPEG
    imagenet/val/ILSVRC2012_val_{%08d}.JPEG
    imagenet/meta/train.txt      # "{wnid}/{wnid}_{n}.JPEG label" per line
    imagenet/meta/val.txt        # "ILSVRC2012_val_{%08d}.JPEG label" per line
"""

import os
import os.path as osp

import cv2
import numpy as np

from ...errors import ConfigError
from .common import is_complete, mark_complete, texture

SHAPES = ('disk', 'square', 'triangle', 'ring', 'cross', 'diamond', 'hbar', 'vbar', 'half', 'ell')
# Fake WordNet ids in ImageNet's format; one per shape.
WNIDS = tuple(f'n{9000000 + i:08d}' for i in range(len(SHAPES)))


def shape_mask(shape: str, size: int, cy: float, cx: float, r: float) -> np.ndarray:
    """Boolean (size, size) mask of ``shape`` centred at (cy, cx) with half-size ``r``."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    dy, dx = yy - cy, xx - cx
    inside = (np.abs(dy) <= r) & (np.abs(dx) <= r)
    radius = np.hypot(dy, dx)
    if shape == 'disk':
        return radius <= r
    if shape == 'square':
        return inside
    if shape == 'triangle':
        return inside & (np.abs(dx) <= (dy + r) / 2)
    if shape == 'ring':
        return (radius <= r) & (radius >= 0.55 * r)
    if shape == 'cross':
        return inside & ((np.abs(dy) <= r / 3) | (np.abs(dx) <= r / 3))
    if shape == 'diamond':
        return np.abs(dy) + np.abs(dx) <= r
    if shape == 'hbar':
        return inside & (np.abs(dy) <= r / 3)
    if shape == 'vbar':
        return inside & (np.abs(dx) <= r / 3)
    if shape == 'half':
        return (radius <= r) & (dy <= 0)
    if shape == 'ell':
        return inside & ((dx <= -r / 3) | (dy >= r / 3))
    raise ConfigError(f'unknown shape {shape!r}; expected one of {SHAPES}')


def render_image(rng: np.random.Generator, label: int, size: int) -> np.ndarray:
    """One BGR uint8 image of class ``label``."""
    background = texture(rng, size, size, rng.integers(40, 200, size=3), int(rng.integers(4)))
    hue = 18 * label + rng.integers(-4, 5)
    colour = cv2.cvtColor(np.uint8([[[hue % 180, 220, 230]]]), cv2.COLOR_HSV2BGR)[0, 0]
    fill = texture(rng, size, size, colour, int(rng.integers(4)))
    r = rng.uniform(0.22, 0.38) * size
    cy, cx = rng.uniform(r, size - r, size=2)
    mask = shape_mask(SHAPES[label], size, cy, cx, r)
    return np.where(mask[..., None], fill, background)


def generate_imagenet(root: str, per_class_train=80, per_class_val=20, size=72, seed=0) -> str:
    """Write the set under ``root/imagenet`` (reused when already complete).

    Args:
        root (str): parent folder (e.g. ``data/synthetic``).
        per_class_train (int): training images per class.
        per_class_val (int): held-out images per class (``val/``).
        size (int): image side.
        seed (int): the same seed gives the same bytes.

    Returns:
        str: the dataset root (``.../imagenet``).
    """
    data_root = osp.join(root, 'imagenet')
    params = dict(kind='imagenet', train=per_class_train, val=per_class_val, size=size, seed=seed)
    if is_complete(data_root, params):
        return data_root
    rng = np.random.default_rng(seed)
    os.makedirs(osp.join(data_root, 'meta'), exist_ok=True)
    os.makedirs(osp.join(data_root, 'val'), exist_ok=True)
    train_lines, val_lines = [], []
    for label, wnid in enumerate(WNIDS):
        os.makedirs(osp.join(data_root, 'train', wnid), exist_ok=True)
        for n in range(per_class_train):
            name = f'{wnid}/{wnid}_{n}.JPEG'
            img = render_image(rng, label, size)
            cv2.imwrite(osp.join(data_root, 'train', name), img, [cv2.IMWRITE_JPEG_QUALITY, 95])
            train_lines.append(f'{name} {label}')
    labels = rng.permutation(np.repeat(np.arange(len(WNIDS)), per_class_val))
    for i, label in enumerate(labels, 1):
        name = f'ILSVRC2012_val_{i:08d}.JPEG'
        img = render_image(rng, int(label), size)
        cv2.imwrite(osp.join(data_root, 'val', name), img, [cv2.IMWRITE_JPEG_QUALITY, 95])
        val_lines.append(f'{name} {label}')
    for split, lines in (('train', train_lines), ('val', val_lines)):
        with open(osp.join(data_root, 'meta', f'{split}.txt'), 'w') as f:
            f.write('\n'.join(lines) + '\n')
    mark_complete(data_root, params)
    return data_root
