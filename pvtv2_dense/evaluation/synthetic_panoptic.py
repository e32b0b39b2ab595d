"""Synthetic COCO panoptic ground truth and predictions, on disk, for checking PQ evaluators.

The ground truth is the built-in synthetic panoptic scene (``datasets/synthetic/coco_panoptic``:
two stuff regions and a few things per image), with an unlabelled (VOID) border strip on some
images and some things marked crowd. Each prediction moves every segment's pixels a little,
gives some things the wrong class, drops some (their pixels become VOID or the stuff around)
and adds a false-positive blob, so that matches, misses, false positives, VOID and crowd are
all exercised. Layout (panopticapi's)::

    ROOT/gt.json   ROOT/gt/%012d.png     # COCO panoptic: segments_info + RGB-encoded ids
    ROOT/pred.json ROOT/pred/%012d.png
"""

import json
import os
import os.path as osp

import cv2
import numpy as np

from ..datasets.synthetic.coco_panoptic import CATEGORIES, THING_CATEGORIES, id2rgb, make_sample

_THING_IDS = tuple(c['id'] for c in THING_CATEGORIES)


def _segments(ids, categories, crowd=()):
    segments = []
    for seg_id in np.unique(ids):
        if seg_id == 0:
            continue
        mask = ids == seg_id
        ys, xs = np.nonzero(mask)
        box = [int(xs.min()), int(ys.min()), int(np.ptp(xs) + 1), int(np.ptp(ys) + 1)]
        segments.append(
            dict(
                id=int(seg_id),
                category_id=int(categories[seg_id]),
                area=int(mask.sum()),
                bbox=box,
                iscrowd=int(seg_id in crowd),
            )
        )
    return segments


def _predict(rng, ids, categories):
    """A prediction for the segment-id map ``ids``: (pred ids, {pred id: category id})."""
    h, w = ids.shape
    shift = rng.integers(-2, 3, 2)
    pred = np.roll(ids, tuple(shift), axis=(0, 1))
    cats = {}
    for seg_id in np.unique(pred):
        cat = categories.get(int(seg_id))
        if cat is None:
            continue
        if cat in _THING_IDS and rng.random() < 0.1:
            pred[pred == seg_id] = 0  # dropped: its pixels become VOID
            continue
        if cat in _THING_IDS and rng.random() < 0.1:
            cat = int(rng.choice(_THING_IDS))
        cats[int(seg_id)] = cat
    if rng.random() < 0.5:  # a false positive blob
        cy, cx, r = rng.integers(0, h), rng.integers(0, w), int(rng.integers(3, max(4, h // 6)))
        blob = np.zeros((h, w), np.uint8)
        cv2.circle(blob, (int(cx), int(cy)), r, 1, -1)
        fp_id = 999
        pred[blob.astype(bool)] = fp_id
        cats[fp_id] = int(rng.choice(_THING_IDS))
    return pred, cats


def make_panoptic_results(root: str, num_images=5000, size=(96, 128), seed=0) -> dict:
    """Write ground truth and predictions for ``num_images`` images under ``root``.

    Args:
        root: output folder (created).
        num_images: number of images.
        size: (height, width) of every image.
        seed: seed of the generator; the same options give the same files.

    Returns:
        dict with ``gt_json, pred_json, gt_folder, pred_folder`` (paths) and ``categories``
        (the COCO category dicts).
    """
    rng = np.random.default_rng(seed)
    paths = dict(
        gt_json=osp.join(root, 'gt.json'),
        pred_json=osp.join(root, 'pred.json'),
        gt_folder=osp.join(root, 'gt'),
        pred_folder=osp.join(root, 'pred'),
    )
    os.makedirs(paths['gt_folder'], exist_ok=True)
    os.makedirs(paths['pred_folder'], exist_ok=True)
    images, gt_anns, pred_anns = [], [], []
    for img_id in range(1, num_images + 1):
        _, ids, segments = make_sample(rng, size)
        if rng.random() < 0.2:
            ids[:, : int(rng.integers(1, 6))] = 0  # an unlabelled strip
        categories = {s['id']: s['category_id'] for s in segments}
        things = [s['id'] for s in segments if s['category_id'] in _THING_IDS]
        crowd = {t for t in things if rng.random() < 0.05}
        pred, pred_cats = _predict(rng, ids, categories)
        name = f'{img_id:012d}.png'
        cv2.imwrite(osp.join(paths['gt_folder'], name), id2rgb(ids)[..., ::-1])
        cv2.imwrite(osp.join(paths['pred_folder'], name), id2rgb(pred)[..., ::-1])
        images.append(dict(id=img_id, file_name=name, height=size[0], width=size[1]))
        gt_segments = _segments(ids, categories, crowd)
        pred_segments = _segments(pred, pred_cats)
        gt_anns.append(dict(image_id=img_id, file_name=name, segments_info=gt_segments))
        pred_anns.append(dict(image_id=img_id, file_name=name, segments_info=pred_segments))
    categories = [dict(c) for c in CATEGORIES]
    for key, anns in (('gt_json', gt_anns), ('pred_json', pred_anns)):
        with open(paths[key], 'w') as f:
            json.dump(dict(images=images, annotations=anns, categories=categories), f)
    return dict(paths, categories=categories)
