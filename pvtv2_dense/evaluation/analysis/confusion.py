"""Confusion matrices from saved results: segmentation (pixels) and detection (boxes).

Rows are ground-truth classes, columns predicted ones. Detection adds a ``background`` row
(false positives: a kept prediction that matches no object) and column (misses: an object no
prediction matched). Detection matching is class-agnostic and greedy: predictions with a score
of at least ``score_thr``, highest first, each take the unmatched object they overlap most,
if that IoU is at least ``iou_thr``; the cell (object class, predicted class) counts the pair.
"""

import os.path as osp

import numpy as np

from ...errors import DataError
from .results_io import load_results, new_figure, save_figure, to_numpy, write_csv


def seg_confusion(samples, num_classes: int, ignore_index=255) -> np.ndarray:
    """Pixel counts (num_classes x num_classes) of ``pred_sem_seg`` against ``gt_sem_seg``."""
    matrix = np.zeros((num_classes, num_classes), np.int64)
    for i, sample in enumerate(samples):
        pred = to_numpy(sample['pred_sem_seg']).reshape(-1).astype(np.int64)
        gt = to_numpy(sample['gt_sem_seg']).reshape(-1).astype(np.int64)
        if pred.shape != gt.shape:
            raise DataError(
                f'sample {i} ({sample.get("img_path")}): prediction has {pred.size} pixels, '
                f'label {gt.size}'
            )
        keep = (gt != ignore_index) & (gt < num_classes) & (pred < num_classes)
        matrix += np.bincount(
            gt[keep] * num_classes + pred[keep], minlength=num_classes**2
        ).reshape(num_classes, num_classes)
    return matrix


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU (len(a) x len(b)) of xyxy boxes."""
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=2)
    area_a = np.prod(a[:, 2:] - a[:, :2], axis=1)
    area_b = np.prod(b[:, 2:] - b[:, :2], axis=1)
    return inter / np.maximum(area_a[:, None] + area_b[None] - inter, 1e-9)


def gt_boxes(sample):
    """Ground-truth (xyxy boxes, labels) of a detection sample. The test pipelines load
    annotations after ``Resize``, so these are in original-image pixels, as predictions are."""
    gt = sample['gt_instances']
    boxes = to_numpy(gt['bboxes']).reshape(-1, 4).astype(np.float64)
    return boxes, to_numpy(gt['labels']).reshape(-1).astype(np.int64)


def det_confusion(samples, num_classes: int, score_thr=0.3, iou_thr=0.5) -> np.ndarray:
    """Counts ((num_classes + 1) x (num_classes + 1)); the last row / column is background."""
    bg = num_classes
    matrix = np.zeros((num_classes + 1, num_classes + 1), np.int64)
    for sample in samples:
        boxes, labels = gt_boxes(sample)
        pred = sample['pred_instances']
        scores = to_numpy(pred['scores']).reshape(-1)
        keep = np.flatnonzero(scores >= score_thr)
        keep = keep[np.argsort(-scores[keep], kind='stable')]
        p_boxes = to_numpy(pred['bboxes']).reshape(-1, 4)[keep]
        p_labels = to_numpy(pred['labels']).reshape(-1)[keep]
        ious = box_iou(boxes, p_boxes) if len(boxes) and len(p_boxes) else None
        matched = np.zeros(len(boxes), bool)
        for j, label in enumerate(p_labels):
            if ious is not None:
                candidates = np.where(matched, -1.0, ious[:, j])
                best = int(np.argmax(candidates))
                if candidates[best] >= iou_thr:
                    matched[best] = True
                    matrix[labels[best], label] += 1
                    continue
            matrix[bg, label] += 1
        for label in labels[~matched]:
            matrix[label, bg] += 1
    return matrix


def plot_confusion(matrix, names, path, title) -> str:
    """The row-normalised matrix (percent of each ground-truth row) as a PNG heat map."""
    rows = matrix.sum(1, keepdims=True)
    percent = 100 * matrix / np.maximum(rows, 1)
    size = max(5.0, 0.35 * len(names) + 2)
    fig, ax = new_figure(size, size)
    im = ax.imshow(percent, cmap='Blues', vmin=0, vmax=100)
    fig.colorbar(im, ax=ax, fraction=0.046, label='% of ground-truth row')
    ax.set_xticks(range(len(names)))
    ax.set_yticks(range(len(names)))
    ax.set_xticklabels(names, rotation=90, fontsize=7)
    ax.set_yticklabels(names, fontsize=7)
    ax.set_xlabel('predicted')
    ax.set_ylabel('ground truth')
    ax.set_title(title)
    if len(names) <= 30:
        for (r, c), v in np.ndenumerate(percent):
            if matrix[r, c]:
                ax.text(c, r, f'{v:.0f}', ha='center', va='center', fontsize=6)
    return save_figure(fig, path)


def confusion_matrix(results, out_dir, classes, task='seg', ignore_index=255, **det_options):
    """Write ``confusion_matrix.png`` and ``confusion_matrix.csv`` (raw counts) to ``out_dir``.

    Args:
        results: the ``tools/test.py --out`` pickle.
        out_dir: output folder.
        classes: class names, in label order.
        task: ``'seg'`` (pixels) or ``'det'`` (boxes; adds background).
        ignore_index: label value not counted (segmentation).
        **det_options: ``score_thr`` and ``iou_thr`` of :func:`det_confusion`.

    Returns:
        (matrix, {'png': path, 'csv': path}).
    """
    if task == 'seg':
        samples = load_results(results, ('pred_sem_seg', 'gt_sem_seg'))
        matrix = seg_confusion(samples, len(classes), ignore_index)
        names = list(classes)
    else:
        samples = load_results(results, ('pred_instances', 'gt_instances'))
        matrix = det_confusion(samples, len(classes), **det_options)
        names = list(classes) + ['background']
    header = ['ground truth \\ predicted', *names]
    rows = [[name, *map(int, row)] for name, row in zip(names, matrix)]
    paths = dict(
        csv=write_csv(osp.join(out_dir, 'confusion_matrix.csv'), header, rows),
        png=plot_confusion(
            matrix, names, osp.join(out_dir, 'confusion_matrix.png'), f'{task} confusion matrix'
        ),
    )
    return matrix, paths
