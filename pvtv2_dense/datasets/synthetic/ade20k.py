"""Synthetic semantic segmentation in the ADE20K on-disk layout.

Each image is a textured background (one of two "stuff" classes) with up to three textured
shapes (disc, rectangle, triangle) of fixed class; a one-pixel band around every shape is left as
label 0 ("other"), which ``reduce_zero_label`` turns into the ignore index, as in ADE20K.
Colours and textures identify the classes, positions and sizes vary: a small learning problem.

Layout (as mmseg's ADE20KDataset reads it)::

    ADEChallengeData2016/images/{training,validation}/ADE_{train,val}_%08d.jpg
    ADEChallengeData2016/annotations/{training,validation}/ADE_{train,val}_%08d.png
"""

import os
import os.path as osp

import cv2
import numpy as np

from .common import is_complete, mark_complete, texture

# ADE20K class ids (1-based in the files): wall, floor, then shapes.
BACKGROUND_CLASSES = (1, 4)
SHAPE_CLASSES = {'disc': 13, 'rectangle': 20, 'triangle': 33}
_COLOURS = {
    1: (120, 120, 120),
    4: (80, 50, 50),
    13: (230, 60, 60),
    20: (60, 200, 60),
    33: (70, 90, 230),
}


def _draw_shape(mask, kind, rng):
    h, w = mask.shape
    cy, cx = rng.integers(h // 5, h - h // 5), rng.integers(w // 5, w - w // 5)
    r = int(rng.integers(max(3, h // 10), max(4, h // 4)))
    if kind == 'disc':
        cv2.circle(mask, (int(cx), int(cy)), r, 1, -1)
    elif kind == 'rectangle':
        cv2.rectangle(mask, (int(cx - r), int(cy - r // 2)), (int(cx + r), int(cy + r // 2)), 1, -1)
    else:
        pts = np.array([[cx, cy - r], [cx - r, cy + r], [cx + r, cy + r]], np.int32)
        cv2.fillPoly(mask, [pts], 1)


def make_sample(rng: np.random.Generator, size=(64, 64)):
    """One (BGR image, label map) pair; labels hold ADE20K ids (0 = other)."""
    h, w = size
    bg = int(rng.choice(BACKGROUND_CLASSES))
    img = texture(rng, h, w, _COLOURS[bg], kind=bg)
    label = np.full((h, w), bg, np.uint8)
    kernel = np.ones((3, 3), np.uint8)
    for kind in rng.permutation(list(SHAPE_CLASSES))[: rng.integers(1, 4)]:
        cls = SHAPE_CLASSES[kind]
        mask = np.zeros((h, w), np.uint8)
        _draw_shape(mask, kind, rng)
        band = cv2.dilate(mask, kernel).astype(bool) & ~mask.astype(bool)
        tex = texture(rng, h, w, _COLOURS[cls], kind=cls)
        img[mask.astype(bool)] = tex[mask.astype(bool)]
        label[mask.astype(bool)] = cls
        label[band] = 0
    return img[..., ::-1].copy(), label


def generate_ade20k(root: str, num_train=48, num_val=16, size=(64, 64), seed=0) -> str:
    """Write the set under ``root/ADEChallengeData2016`` (reused when already complete).

    Returns the dataset root to give mmseg (``.../ADEChallengeData2016``).
    """
    data_root = osp.join(root, 'ADEChallengeData2016')
    params = dict(kind='ade20k', num_train=num_train, num_val=num_val, size=list(size), seed=seed)
    if is_complete(data_root, params):
        return data_root
    rng = np.random.default_rng(seed)
    for split, prefix, count in (('training', 'train', num_train), ('validation', 'val', num_val)):
        img_dir = osp.join(data_root, 'images', split)
        ann_dir = osp.join(data_root, 'annotations', split)
        os.makedirs(img_dir, exist_ok=True)
        os.makedirs(ann_dir, exist_ok=True)
        for i in range(count):
            img, label = make_sample(rng, size)
            name = f'ADE_{prefix}_{i + 1:08d}'
            cv2.imwrite(osp.join(img_dir, name + '.jpg'), img, [cv2.IMWRITE_JPEG_QUALITY, 95])
            cv2.imwrite(osp.join(ann_dir, name + '.png'), label)
    mark_complete(data_root, params)
    return data_root
