"""Synthetic object detection in the COCO 2017 on-disk layout.

Each image is a textured background holding a few textured shapes (disc, rectangle, triangle);
the shape kind is the category, and shapes overlap little, so every box is well defined. Colour,
texture and outline identify the class, while position and size vary: a small learning problem.

Layout (as mmdet's CocoDataset and CocoMetric read it)::

    coco/annotations/instances_{train,val}2017.json
    coco/{train,val}2017/%012d.jpg

The JSON has ``images`` (id, file_name, width, height), ``annotations`` (id, image_id,
category_id, bbox as [x, y, w, h], area, iscrowd, polygon segmentation) and ``categories``.
"""

import json
import os
import os.path as osp

import cv2
import numpy as np

from .common import is_complete, mark_complete, texture

CATEGORIES = (
    dict(id=1, name='disc', supercategory='shape'),
    dict(id=2, name='rectangle', supercategory='shape'),
    dict(id=3, name='triangle', supercategory='shape'),
)
CLASSES = tuple(c['name'] for c in CATEGORIES)
_COLOURS = {1: (230, 60, 60), 2: (60, 200, 60), 3: (70, 90, 230)}
_BACKGROUNDS = ((120, 120, 120), (80, 50, 50), (60, 70, 90))


def _outline(kind: str, cx: float, cy: float, r: float) -> np.ndarray:
    """Polygon (N x 2, float) of a shape centred at (cx, cy) with half-size r."""
    if kind == 'disc':
        t = np.linspace(0, 2 * np.pi, 24, endpoint=False)
        return np.stack([cx + r * np.cos(t), cy + r * np.sin(t)], 1)
    if kind == 'rectangle':
        return np.array(
            [[cx - r, cy - r / 2], [cx + r, cy - r / 2], [cx + r, cy + r / 2], [cx - r, cy + r / 2]]
        )
    return np.array([[cx, cy - r], [cx + r, cy + r], [cx - r, cy + r]])


def _iou(a, b) -> float:
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def make_sample(rng: np.random.Generator, size=(64, 64), max_objects=3, scale=(0.15, 0.35)):
    """One BGR image and its objects: a list of (category id, bbox xywh, polygon, area).

    Args:
        rng: the random generator (the only source of randomness).
        size: (height, width) of the image.
        max_objects: at most this many shapes (at least one).
        scale: range of a shape's half-size as a fraction of the shorter image side.
    """
    h, w = size
    img = texture(rng, h, w, _BACKGROUNDS[rng.integers(len(_BACKGROUNDS))], kind=0)
    objects = []
    for _ in range(int(rng.integers(1, max_objects + 1))):
        for _attempt in range(20):
            cat = CATEGORIES[rng.integers(len(CATEGORIES))]
            r = rng.uniform(*scale) * min(h, w)
            cx, cy = rng.uniform(r, w - r), rng.uniform(r, h - r)
            poly = np.clip(_outline(cat['name'], cx, cy, r), 0, [w - 1, h - 1])
            mask = np.zeros((h, w), np.uint8)
            cv2.fillPoly(mask, [np.round(poly).astype(np.int32)], 1)
            ys, xs = np.nonzero(mask)
            # Boxes come from the drawn pixels, so they are exact for the image.
            box = [
                float(xs.min()),
                float(ys.min()),
                float(xs.max() - xs.min() + 1),
                float(ys.max() - ys.min() + 1),
            ]
            if all(_iou(box, other[1]) < 0.1 for other in objects):
                break
        else:
            continue
        tex = texture(rng, h, w, _COLOURS[cat['id']], kind=cat['id'])
        img[mask.astype(bool)] = tex[mask.astype(bool)]
        objects.append((cat['id'], box, poly, float(mask.sum())))
    return img[..., ::-1].copy(), objects


def _write_split(data_root, split, count, rng, size, max_objects, scale, first_ann_id):
    img_dir = osp.join(data_root, f'{split}2017')
    os.makedirs(img_dir, exist_ok=True)
    images, annotations = [], []
    ann_id = first_ann_id
    for i in range(count):
        img, objects = make_sample(rng, size, max_objects, scale)
        img_id = i + 1
        name = f'{img_id:012d}.jpg'
        cv2.imwrite(osp.join(img_dir, name), img, [cv2.IMWRITE_JPEG_QUALITY, 95])
        images.append(dict(id=img_id, file_name=name, height=size[0], width=size[1]))
        for cat_id, box, poly, area in objects:
            annotations.append(
                dict(
                    id=ann_id,
                    image_id=img_id,
                    category_id=cat_id,
                    bbox=[round(v, 2) for v in box],
                    area=area,
                    iscrowd=0,
                    segmentation=[[round(float(v), 2) for v in poly.reshape(-1)]],
                )
            )
            ann_id += 1
    ann = dict(
        info=dict(description='pvtv2_dense synthetic shapes (COCO layout)', version='1.0'),
        images=images,
        annotations=annotations,
        categories=[dict(c) for c in CATEGORIES],
    )
    ann_dir = osp.join(data_root, 'annotations')
    os.makedirs(ann_dir, exist_ok=True)
    with open(osp.join(ann_dir, f'instances_{split}2017.json'), 'w') as f:
        json.dump(ann, f, sort_keys=True)
    return ann_id


def generate_coco(
    root: str,
    num_train=512,
    num_val=64,
    size=(64, 64),
    seed=0,
    max_objects=3,
    scale=(0.15, 0.35),
) -> str:
    """Write the set under ``root/coco`` (reused when already complete with the same options).

    Args:
        root: parent folder; the set goes to ``root/coco``.
        num_train: number of training images.
        num_val: number of held-out validation images.
        size: (height, width) of every image.
        seed: seed of the generator; the same options give the same bytes.
        max_objects: at most this many objects per image.
        scale: range of an object's half-size as a fraction of the shorter image side.

    Returns:
        The dataset root to give mmdet (``.../coco``).
    """
    data_root = osp.join(root, 'coco')
    params = dict(
        kind='coco',
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
    next_id = _write_split(data_root, 'train', num_train, rng, size, max_objects, scale, 1)
    _write_split(data_root, 'val', num_val, rng, size, max_objects, scale, next_id)
    mark_complete(data_root, params)
    return data_root
