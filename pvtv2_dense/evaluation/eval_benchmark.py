"""Time and compare COCO evaluators on a synthetic COCO-scale set (the logic of
``tools/analysis_tools/benchmark_coco_eval.py``).

Box and mask AP: each backend of :mod:`.coco_backends` runs the whole evaluation from the
in-memory ground truth and results (index, ``loadRes``, evaluate, accumulate, summarize); its
12 numbers are compared with pycocotools'. PQ: panopticapi's algorithm (mmdet's multi-core
path) with 1 and with every available process, and hotcoco, over PNGs on disk; PQ, SQ and RQ
of all / things / stuff and every class are compared with panopticapi's single-process run.
"""

import os
import tempfile
import time

import numpy as np

from .coco_backends import BACKENDS, coco_stats, load_gt
from .pq_backends import available_cores, pq_hotcoco, pq_max_difference, pq_panopticapi
from .synthetic_panoptic import make_panoptic_results
from .synthetic_results import make_detection_results

TOLERANCE = 1e-4


def _timed(fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def _ap_run(backend, gt, results, iou_type):
    return coco_stats(backend, load_gt(backend, gt), results, iou_type)


def benchmark_ap(num_images, dets_per_image, backends=BACKENDS, seed=0) -> list:
    """Rows ``(task, backend, seconds, speed-up vs pycocotools, max |diff|, equal)`` for bbox
    and segm AP on ``num_images`` images with ``dets_per_image`` detections each."""
    gt, bbox, segm = make_detection_results(num_images, dets_per_image, seed=seed)
    rows = []
    for iou_type, results in (('bbox', bbox), ('segm', segm)):
        ref, ref_time = _timed(_ap_run, 'pycocotools', gt, results, iou_type)
        rows.append((f'{iou_type} AP', 'pycocotools', ref_time, 1.0, 0.0, True))
        for backend in backends:
            if backend == 'pycocotools':
                continue
            stats, seconds = _timed(_ap_run, backend, gt, results, iou_type)
            diff = float(np.abs(stats - ref).max())
            rows.append(
                (f'{iou_type} AP', backend, seconds, ref_time / seconds, diff, diff <= TOLERANCE)
            )
    return rows


def benchmark_pq(num_images, size=(96, 128), seed=0, work_dir=None) -> list:
    """Rows like :func:`benchmark_ap`'s for PQ on ``num_images`` synthetic panoptic images."""
    with tempfile.TemporaryDirectory(dir=work_dir) as root:
        paths = make_panoptic_results(root, num_images, size, seed)
        files = [paths[k] for k in ('gt_json', 'pred_json', 'gt_folder', 'pred_folder')]
        ref, ref_time = _timed(pq_panopticapi, *files, nproc=1)
        rows = [('PQ', 'panopticapi, 1 process', ref_time, 1.0, 0.0, True)]
        runs = [(f'panopticapi, {available_cores()} processes', pq_panopticapi, dict(nproc=None))]
        runs.append(('hotcoco', pq_hotcoco, {}))
        for name, fn, kwargs in runs:
            result, seconds = _timed(fn, *files, **kwargs)
            diff = pq_max_difference(ref, result)
            rows.append(('PQ', name, seconds, ref_time / seconds, diff, diff <= TOLERANCE))
    return rows


def markdown_table(rows) -> str:
    """The rows as a Markdown table."""
    lines = [
        '| task | evaluator | seconds | speed-up | max abs diff | equal (1e-4) |',
        '| --- | --- | ---: | ---: | ---: | --- |',
    ]
    for task, backend, seconds, ratio, diff, equal in rows:
        lines.append(
            f'| {task} | {backend} | {seconds:.2f} | {ratio:.1f}x | {diff:.1e} | '
            f'{"yes" if equal else "NO"} |'
        )
    return '\n'.join(lines)


def machine_load() -> str:
    """The 1/5/15-minute load averages and the cores this process may use."""
    load = ', '.join(f'{x:.2f}' for x in os.getloadavg())
    return f'load average {load} on {available_cores()} available cores'
