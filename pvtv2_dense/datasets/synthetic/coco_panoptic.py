"""Synthetic panoptic segmentation in the COCO panoptic on-disk layout.

Each image is split by a wavy horizon into two stuff regions (an upper one, sky or wall, and a
lower one, grass or sand, each with its own colour and texture) and holds a few textured thing
instances on top (disc, rectangle, triangle), later ones occluding up to a quarter of earlier
ones. Every pixel belongs to exactly one segment, as in COCO panoptic; category ids are not
contiguous (things 1-3, stuff 101-104), as in COCO, so the label mapping is exercised.

Layout (as mmdet's CocoPanopticDataset and CocoPanopticMetric read it)::

    coco_panoptic/{train,val}2017/%012d.jpg
    coco_panoptic/annotations/panoptic_{train,val}2017.json
    coco_panoptic/annotations/panoptic_{train,val}2017/%012d.png   # RGB-encoded segment ids

The JSON has ``images`` (id, file_name, width, height), ``annotations`` (image_id, file_name of
the PNG, ``segments_info`` with id, category_id, area, bbox [x, y, w, h], iscrowd) and
``categories`` (id, name, supercategory, isthing, color).
"""

import json
import os
import os.path as osp

import cv2
import numpy as np

from .coco import _outline
from .common import is_complete, mark_complete, texture

THING_CATEGORIES = (
    dict(id=1, name='disc', supercategory='shape', isthing=1, color=[230, 60, 60]),
    dict(id=2, name='rectangle', supercategory='shape', isthing=1, color=[60, 200, 60]),
    dict(id=3, name='triangle', supercategory='shape', isthing=1, color=[70, 90, 230]),
)
STUFF_CATEGORIES = (
    dict(id=101, name='sky', supercategory='background', isthing=0, color=[120, 170, 230]),
    dict(id=102, name='wall', supercategory='background', isthing=0, color=[150, 120, 100]),
    dict(id=103, name='grass', supercategory='background', isthing=0, color=[70, 140, 60]),
    dict(id=104, name='sand', supercategory='background', isthing=0, color=[210, 190, 130]),
)
CATEGORIES = THING_CATEGORIES + STUFF_CATEGORIES
THING_CLASSES = tuple(c['name'] for c in THING_CATEGORIES)
STUFF_CLASSES = tuple(c['name'] for c in STUFF_CATEGORIES)
CLASSES = THING_CLASSES + STUFF_CLASSES
# Region colours differ from the thing colours, so colour alone separates stuff from things.
_STUFF_RGB = {101: (150, 190, 240), 102: (120, 100, 90), 103: (40, 110, 40), 104: (200, 180, 120)}
_THING_RGB = {1: (230, 60, 60), 2: (250, 220, 40), 3: (70, 60, 230)}
# Upper regions are sky or wall, lower ones grass or sand.
_UPPER, _LOWER = (101, 102), (103, 104)


def id2rgb(ids: np.ndarray) -> np.ndarray:
    """Segment ids (H, W) as the RGB image COCO panoptic stores (id = R + 256 G + 256^2 B)."""
    ids = ids.astype(np.int64)
    return np.stack([ids % 256, ids // 256 % 256, ids // 256**2 % 256], -1).astype(np.uint8)


def _box(mask: np.ndarray) -> list:
    ys, xs = np.nonzero(mask)
    return [
        int(xs.min()),
        int(ys.min()),
        int(xs.max() - xs.min() + 1),
        int(ys.max() - ys.min() + 1),
    ]


def _overlap(a, b) -> float:
    """Intersection over the smaller of two boolean masks."""
    return float((a & b).sum()) / max(1, min(int(a.sum()), int(b.sum())))


def make_sample(
    rng: np.random.Generator, size=(64, 64), max_objects=4, scale=(0.14, 0.32), max_overlap=0.25
):
    """One RGB image, its segment-id map and its segments.

    Args:
        rng: the random generator (the only source of randomness).
        size: (height, width) of the image.
        max_objects: at most this many thing instances (at least one).
        scale: range of a thing's half-size as a fraction of the shorter image side.
        max_overlap: most a new thing may cover of an earlier one (or it of the new one).

    Returns:
        (image RGB uint8 (H, W, 3), ids int32 (H, W), segments): each segment is a dict with
        ``id, category_id, area, bbox, iscrowd`` (COCO panoptic ``segments_info``).
    """
    h, w = size
    yy, xx = np.mgrid[0:h, 0:w]
    horizon = rng.uniform(0.35, 0.65) * h
    amplitude, freq, phase = rng.uniform(0, 0.08 * h), rng.uniform(0.5, 2), rng.uniform(0, 6.3)
    upper = yy < horizon + amplitude * np.sin(xx / w * 2 * np.pi * freq + phase)
    img = np.zeros((h, w, 3), np.uint8)
    ids = np.zeros((h, w), np.int32)
    cats = {}
    for region, cat in ((upper, rng.choice(_UPPER)), (~upper, rng.choice(_LOWER))):
        cat = int(cat)
        img[region] = texture(rng, h, w, _STUFF_RGB[cat], kind=cat % 4)[region]
        ids[region] = cat * 1000
        cats[cat * 1000] = cat
    things = []
    for _ in range(int(rng.integers(1, max_objects + 1))):
        for _attempt in range(20):
            cat = THING_CATEGORIES[rng.integers(len(THING_CATEGORIES))]
            r = rng.uniform(*scale) * min(h, w)
            cx, cy = rng.uniform(r, w - r), rng.uniform(r, h - r)
            poly = np.clip(_outline(cat['name'], cx, cy, r), 0, [w - 1, h - 1])
            mask = np.zeros((h, w), np.uint8)
            cv2.fillPoly(mask, [np.round(poly).astype(np.int32)], 1)
            mask = mask.astype(bool)
            if all(_overlap(mask, other) <= max_overlap for other in things):
                break
        else:
            continue
        seg_id = cat['id'] * 1000 + len(things) + 1
        img[mask] = texture(rng, h, w, _THING_RGB[cat['id']], kind=cat['id'])[mask]
        ids[mask] = seg_id
        cats[seg_id] = cat['id']
        things.append(mask)
    segments = []
    for seg_id in sorted(cats):
        mask = ids == seg_id
        if mask.any():  # a stuff region can be covered by things entirely
            segments.append(
                dict(
                    id=seg_id,
                    category_id=cats[seg_id],
                    area=int(mask.sum()),
                    bbox=_box(mask),
                    iscrowd=0,
                )
            )
    return img, ids, segments


def _write_split(data_root, split, count, rng, size, max_objects, scale):
    img_dir = osp.join(data_root, f'{split}2017')
    png_dir = osp.join(data_root, 'annotations', f'panoptic_{split}2017')
    os.makedirs(img_dir, exist_ok=True)
    os.makedirs(png_dir, exist_ok=True)
    images, annotations = [], []
    for i in range(count):
        img, ids, segments = make_sample(rng, size, max_objects, scale)
        img_id = i + 1
        name = f'{img_id:012d}'
        cv2.imwrite(
            osp.join(img_dir, name + '.jpg'), img[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 95]
        )
        cv2.imwrite(osp.join(png_dir, name + '.png'), id2rgb(ids)[..., ::-1])
        images.append(dict(id=img_id, file_name=name + '.jpg', height=size[0], width=size[1]))
        annotations.append(dict(image_id=img_id, file_name=name + '.png', segments_info=segments))
    ann = dict(
        info=dict(description='pvtv2_dense synthetic panoptic shapes (COCO layout)', version='1.0'),
        images=images,
        annotations=annotations,
        categories=[dict(c) for c in CATEGORIES],
    )
    with open(osp.join(data_root, 'annotations', f'panoptic_{split}2017.json'), 'w') as f:
        json.dump(ann, f, sort_keys=True)


def generate_coco_panoptic(
    root: str,
    num_train=512,
    num_val=64,
    size=(64, 64),
    seed=0,
    max_objects=4,
    scale=(0.14, 0.32),
) -> str:
    """Write the set under ``root/coco_panoptic`` (reused when complete with the same options).

    Args:
        root: parent folder; the set goes to ``root/coco_panoptic``.
        num_train: number of training images.
        num_val: number of held-out validation images.
        size: (height, width) of every image.
        seed: seed of the generator; the same options give the same bytes.
        max_objects: at most this many thing instances per image.
        scale: range of a thing's half-size as a fraction of the shorter image side.

    Returns:
        The dataset root to give mmdet (``.../coco_panoptic``).
    """
    data_root = osp.join(root, 'coco_panoptic')
    params = dict(
        kind='coco_panoptic',
        num_train=num_train,
        num_val=num_val,
        size=list(size),
        seed=seed,
        max_objects=max_objects,
        scale=list(scale),
    )
    if is_complete(data_root, params):
        return data_root
    rng = np.random.default_rng(seed)
    _write_split(data_root, 'train', num_train, rng, size, max_objects, scale)
    _write_split(data_root, 'val', num_val, rng, size, max_objects, scale)
    mark_complete(data_root, params)
    return data_root
