"""Synthetic segmentation in the folder layout of your own data (``CheckedSegDataset``).

The shapes of the ADE20K-layout set (:mod:`.ade20k`) with labels ``0 .. num_classes - 1``:
0 is the background (both backgrounds and the band around each shape), and the disc, rectangle
and triangle are classes 1, 2, 3 (all shapes are class 1 with two classes: a binary set).

Layout (the custom segmentation configs' ``configs/custom/*custom-*seg*``)::

    seg_folder/img_dir/{train,val}/%04d.jpg
    seg_folder/ann_dir/{train,val}/%04d.png      # 0 .. num_classes - 1
"""

import os
import os.path as osp

import cv2
import numpy as np

from ...errors import InputError
from .ade20k import SHAPE_CLASSES, make_sample
from .common import is_complete, mark_complete


def generate_seg_folder(
    root: str, num_classes=4, num_train=8, num_val=4, size=(64, 64), seed=0
) -> str:
    """Write the set under ``root/seg_folder`` (reused when already complete).

    Args:
        root (str): parent folder.
        num_classes (int): 2 (background, shape) to 4 (background, disc, rectangle, triangle).
        num_train (int): training images.
        num_val (int): validation images.
        size (tuple): (height, width).
        seed (int): random seed: same seed, same bytes.

    Returns:
        str: the dataset root (``.../seg_folder``).
    """
    if not 2 <= num_classes <= len(SHAPE_CLASSES) + 1:
        raise InputError(f'generate_seg_folder: num_classes={num_classes}; expected 2..4')
    data_root = osp.join(root, 'seg_folder')
    params = dict(
        kind='seg_folder',
        num_classes=num_classes,
        num_train=num_train,
        num_val=num_val,
        size=list(size),
        seed=seed,
    )
    if is_complete(data_root, params):
        return data_root
    lut = np.zeros(256, np.uint8)  # ADE ids -> 0 .. num_classes - 1
    for i, ade_id in enumerate(SHAPE_CLASSES.values(), 1):
        lut[ade_id] = min(i, num_classes - 1)
    rng = np.random.default_rng(seed)
    for split, count in (('train', num_train), ('val', num_val)):
        img_dir = osp.join(data_root, 'img_dir', split)
        ann_dir = osp.join(data_root, 'ann_dir', split)
        os.makedirs(img_dir, exist_ok=True)
        os.makedirs(ann_dir, exist_ok=True)
        for i in range(count):
            img, label = make_sample(rng, size)
            cv2.imwrite(osp.join(img_dir, f'{i:04d}.jpg'), img, [cv2.IMWRITE_JPEG_QUALITY, 95])
            cv2.imwrite(osp.join(ann_dir, f'{i:04d}.png'), lut[label])
    mark_complete(data_root, params)
    return data_root
