"""The K worst images of a saved test run, with their predictions drawn.

Each image gets a score: segmentation, its mIoU over the classes in its label or prediction;
detection, F1 of its boxes (same class, IoU >= 0.5, score >= ``score_thr``); depth, its mean
absolute relative error (the worst is the highest). ``analyze_results`` writes
``worst_images.json`` (the ranking: path, score, rank) and one PNG per image (image, ground
truth and prediction side by side; boxes green for objects, red for predictions).
"""

import os
import os.path as osp

import cv2
import numpy as np

from .confusion import box_iou, gt_boxes
from .results_io import load_results, to_numpy, write_json

_PALETTE = np.random.default_rng(0).integers(0, 255, (256, 3)).astype(np.uint8)


def seg_image_miou(sample, num_classes, ignore_index=255) -> float:
    pred = to_numpy(sample['pred_sem_seg']).reshape(-1)
    gt = to_numpy(sample['gt_sem_seg']).reshape(-1)
    keep = gt != ignore_index
    pred, gt = pred[keep], gt[keep]
    ious = []
    for c in np.union1d(np.unique(gt), np.unique(pred)):
        if c >= num_classes:
            continue
        inter = np.sum((gt == c) & (pred == c))
        ious.append(inter / np.sum((gt == c) | (pred == c)))
    return float(np.mean(ious)) if ious else 1.0


def det_image_f1(sample, score_thr=0.3, iou_thr=0.5) -> float:
    boxes, labels = gt_boxes(sample)
    pred = sample['pred_instances']
    keep = to_numpy(pred['scores']).reshape(-1) >= score_thr
    p_boxes = to_numpy(pred['bboxes']).reshape(-1, 4)[keep]
    p_labels = to_numpy(pred['labels']).reshape(-1)[keep]
    if not len(boxes) and not len(p_boxes):
        return 1.0
    tp = 0
    if len(boxes) and len(p_boxes):
        ious = box_iou(boxes, p_boxes) * (labels[:, None] == p_labels[None])
        matched = np.zeros(len(boxes), bool)
        for j in range(len(p_boxes)):
            candidates = np.where(matched, -1.0, ious[:, j])
            best = int(np.argmax(candidates))
            if candidates[best] >= iou_thr:
                matched[best], tp = True, tp + 1
    return 2 * tp / (len(boxes) + len(p_boxes))


def depth_image_abs_rel(sample) -> float:
    pred = to_numpy(sample['pred_depth_map']).squeeze()
    gt = to_numpy(sample['gt_depth_map']).squeeze()
    valid = gt > 0
    return float(np.mean(np.abs(pred[valid] - gt[valid]) / gt[valid])) if valid.any() else 0.0


def _image(sample, shape):
    path = sample.get('img_path')
    img = cv2.imread(path) if path and osp.isfile(path) else None
    if img is None:  # the image moved: draw on grey
        img = np.full((*shape, 3), 128, np.uint8)
    return cv2.resize(img, (shape[1], shape[0]))


def _colour(labels):
    return _PALETTE[np.asarray(labels, np.int64) % 256]


def _depth_colour(depth, top):
    scaled = np.clip(255 * np.nan_to_num(depth) / max(top, 1e-6), 0, 255).astype(np.uint8)
    return cv2.applyColorMap(scaled, cv2.COLORMAP_MAGMA)


def _draw_boxes(img, boxes, colour):
    for x1, y1, x2, y2 in np.round(boxes).astype(int):
        cv2.rectangle(img, (x1, y1), (x2, y2), colour, 1)
    return img


def draw(sample, task, score_thr=0.3) -> np.ndarray:
    """Image | ground truth | prediction, side by side (BGR)."""
    if task == 'seg':
        gt, pred = (
            to_numpy(sample['gt_sem_seg']).squeeze(),
            to_numpy(sample['pred_sem_seg']).squeeze(),
        )
        img = _image(sample, gt.shape)
        panels = [img, _colour(gt), _colour(pred)]
    elif task == 'depth':
        gt = to_numpy(sample['gt_depth_map']).squeeze()
        pred = to_numpy(sample['pred_depth_map']).squeeze()
        top = float(gt.max()) if gt.size else 1.0
        panels = [_image(sample, gt.shape), _depth_colour(gt, top), _depth_colour(pred, top)]
    else:
        shape = tuple(sample.get('ori_shape', (256, 256)))[:2]
        img = _image(sample, shape)
        pred = sample['pred_instances']
        keep = to_numpy(pred['scores']).reshape(-1) >= score_thr
        boxes = to_numpy(pred['bboxes']).reshape(-1, 4)[keep]
        panels = [img, _draw_boxes(img.copy(), gt_boxes(sample)[0], (0, 200, 0))]
        panels.append(_draw_boxes(img.copy(), boxes, (0, 0, 255)))
    return np.concatenate(panels, axis=1)


def task_of(sample) -> str:
    """'seg', 'det' or 'depth' from the keys of a saved sample."""
    for key, task in (('pred_sem_seg', 'seg'), ('pred_depth_map', 'depth')):
        if key in sample:
            return task
    return 'det'


def analyze_results(results, out_dir, topk=10, num_classes=None, ignore_index=255, score_thr=0.3):
    """Rank the images of ``results`` and draw the ``topk`` worst.

    Args:
        results: the ``tools/test.py --out`` pickle (segmentation, detection or depth).
        out_dir: output folder.
        topk: how many of the worst images to draw.
        num_classes: segmentation classes (labels at or above are ignored); None: 256.
        ignore_index: segmentation label value not scored.
        score_thr: detection score threshold.

    Returns:
        (ranking, paths): the ranked list of dicts, and the written files.
    """
    samples = load_results(results)
    task = task_of(samples[0])
    required = dict(seg=('gt_sem_seg',), depth=('gt_depth_map',), det=('gt_instances',))[task]
    samples = load_results(results, required)
    if task == 'seg':
        scores = [seg_image_miou(s, num_classes or 256, ignore_index) for s in samples]
        order, metric = np.argsort(scores, kind='stable'), 'mIoU'
    elif task == 'det':
        scores = [det_image_f1(s, score_thr) for s in samples]
        order, metric = np.argsort(scores, kind='stable'), 'F1'
    else:
        scores = [depth_image_abs_rel(s) for s in samples]
        order, metric = np.argsort(scores, kind='stable')[::-1], 'abs_rel'
    ranking, paths = [], []
    os.makedirs(out_dir, exist_ok=True)
    for rank, i in enumerate(order[:topk]):
        name = osp.splitext(osp.basename(str(samples[i].get('img_path', f'sample_{i}'))))[0]
        path = osp.join(out_dir, f'{rank:03d}_{name}.png')
        cv2.imwrite(path, draw(samples[i], task, score_thr))
        paths.append(path)
        ranking.append(dict(rank=rank, img_path=samples[i].get('img_path'), **{metric: scores[i]}))
    paths.append(write_json(osp.join(out_dir, 'worst_images.json'), dict(task=task, worst=ranking)))
    return ranking, paths
