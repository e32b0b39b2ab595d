"""The diagnostics as the tools call them: a config (for class names, the ignored label and
annotation files) plus the saved results; each returns the files it wrote."""

import os.path as osp

from ...errors import DataError
from .coco_errors import coco_error_analysis
from .config_info import dataset_classes, evaluator_value, ignore_index
from .confusion import confusion_matrix
from .per_class import det_per_class, panoptic_per_class, seg_per_class
from .results_io import load_results
from .worst import analyze_results, task_of


def _task(results):
    if osp.isdir(results):
        return 'panoptic'
    return task_of(load_results(results)[0])


def run_confusion_matrix(cfg, results, out_dir, score_thr=0.3, iou_thr=0.5) -> dict:
    """Confusion matrix of a segmentation or detection run (task from the saved samples)."""
    task = _task(results)
    if task not in ('seg', 'det'):
        raise DataError(f'{results}: a {task} run; confusion matrices are for seg and det runs')
    if task == 'seg':
        _, paths = confusion_matrix(
            results, out_dir, dataset_classes(cfg), 'seg', ignore_index(cfg)
        )
    else:
        _, paths = confusion_matrix(
            results, out_dir, dataset_classes(cfg), 'det', score_thr=score_thr, iou_thr=iou_thr
        )
    return paths


def run_per_class(cfg, results, out_dir, ann_file=None, seg_prefix=None) -> dict:
    """Per-class IoU (segmentation pickle), AP (detection pickle) or PQ (panoptic folder)."""
    task = _task(results)
    if task == 'seg':
        return seg_per_class(results, out_dir, dataset_classes(cfg), ignore_index(cfg))[1]
    if task == 'det':
        ann_file = ann_file or evaluator_value(cfg, 'ann_file', 'CocoMetric')
        return det_per_class(results, out_dir, dataset_classes(cfg), ann_file)[1]
    ann_file = ann_file or evaluator_value(cfg, 'ann_file', 'PanopticMetric')
    seg_prefix = seg_prefix or evaluator_value(cfg, 'seg_prefix', 'PanopticMetric')
    return panoptic_per_class(results, out_dir, ann_file, seg_prefix)[1]


def run_analyze_results(cfg, results, out_dir, topk=10, score_thr=0.3) -> list:
    """The ``topk`` worst images of a segmentation, detection or depth run."""
    num_classes = len(dataset_classes(cfg)) if _task(results) == 'seg' else None
    return analyze_results(results, out_dir, topk, num_classes, ignore_index(cfg), score_thr)[1]


def run_coco_error_analysis(cfg, results, out_dir, ann_file=None) -> dict:
    """COCO error analysis of a detection run."""
    ann_file = ann_file or evaluator_value(cfg, 'ann_file', 'CocoMetric')
    return coco_error_analysis(results, out_dir, dataset_classes(cfg), ann_file)[1]
