"""Per-class tables and bar plots from saved results: IoU (segmentation), AP (detection),
PQ (panoptic). Each writes ``per_class_<metric>.csv`` and ``per_class_<metric>.png``."""

import json
import os.path as osp

import numpy as np

from ...errors import DataError
from ..coco_backends import backend_classes
from ..pq_backends import pq_hotcoco, pq_panopticapi
from .confusion import seg_confusion
from .results_io import bar_plot, load_results, to_numpy, write_csv


def _write(out_dir, metric, header, rows, names, values, title):
    base = osp.join(out_dir, f'per_class_{metric.lower()}')
    return dict(
        csv=write_csv(base + '.csv', header, rows),
        png=bar_plot(base + '.png', names, values, metric, title),
    )


def seg_per_class(results, out_dir, classes, ignore_index=255):
    """IoU and accuracy (percent) of every class; NaN where a class is absent from both."""
    samples = load_results(results, ('pred_sem_seg', 'gt_sem_seg'))
    matrix = seg_confusion(samples, len(classes), ignore_index).astype(np.float64)
    tp = np.diag(matrix)
    with np.errstate(invalid='ignore', divide='ignore'):
        iou = 100 * tp / (matrix.sum(0) + matrix.sum(1) - tp)
        acc = 100 * tp / matrix.sum(1)
    rows = [
        [c, f'{i:.2f}', f'{a:.2f}', int(n)] for c, i, a, n in zip(classes, iou, acc, matrix.sum(1))
    ]
    table = dict(zip(classes, iou.tolist()))
    paths = _write(out_dir, 'IoU', ['class', 'IoU', 'Acc', 'pixels'], rows, classes, iou, 'IoU')
    return table, paths


def detections_to_coco(samples, cat_ids) -> list:
    """The samples' predictions in the COCO results format (xywh, category ids)."""
    out = []
    for sample in samples:
        pred = sample['pred_instances']
        boxes = to_numpy(pred['bboxes']).reshape(-1, 4).astype(float)
        scores, labels = to_numpy(pred['scores']).reshape(-1), to_numpy(pred['labels']).reshape(-1)
        for (x1, y1, x2, y2), score, label in zip(boxes, scores, labels):
            out.append(
                dict(
                    image_id=sample['img_id'],
                    category_id=int(cat_ids[int(label)]),
                    bbox=[x1, y1, x2 - x1, y2 - y1],
                    score=float(score),
                )
            )
    return out


def coco_gt_and_results(results, ann_file, classes, backend='faster_coco_eval'):
    """(ground-truth API, results API, category ids in label order) of a detection run."""
    samples = load_results(results, ('pred_instances', 'img_id'))
    coco_cls, _ = backend_classes(backend)
    if not osp.isfile(ann_file):
        raise DataError(f'{ann_file}: no such COCO annotation file')
    gt = coco_cls(ann_file)
    names = {c['name']: c['id'] for c in gt.loadCats(gt.getCatIds())}
    missing = [c for c in classes if c not in names]
    if missing:
        raise DataError(f'{ann_file}: no categories named {missing[:5]}')
    cat_ids = [names[c] for c in classes]
    dets = detections_to_coco(samples, cat_ids)
    if not dets:
        raise DataError(f'{results}: the run predicted no boxes')
    return gt, gt.loadRes(dets), cat_ids


def det_per_class(results, out_dir, classes, ann_file, backend='faster_coco_eval'):
    """AP, AP50 and AP75 (percent) of every class, as COCO computes them."""
    gt, dt, cat_ids = coco_gt_and_results(results, ann_file, classes, backend)
    _, eval_cls = backend_classes(backend)
    evaluator = eval_cls(gt, dt, 'bbox')
    evaluator.params.catIds = cat_ids
    evaluator.evaluate()
    evaluator.accumulate()
    precision = evaluator.eval['precision'][:, :, :, 0, -1]  # IoU x recall x class, all areas

    def mean(p):
        p = p[p > -1]
        return 100 * float(p.mean()) if p.size else float('nan')

    ap = [mean(precision[:, :, k]) for k in range(len(classes))]
    ap50 = [mean(precision[0, :, k]) for k in range(len(classes))]
    ap75 = [mean(precision[5, :, k]) for k in range(len(classes))]
    rows = [[c, f'{a:.2f}', f'{b:.2f}', f'{d:.2f}'] for c, a, b, d in zip(classes, ap, ap50, ap75)]
    paths = _write(out_dir, 'AP', ['class', 'AP', 'AP50', 'AP75'], rows, classes, ap, 'box AP')
    return dict(zip(classes, ap)), paths


def panoptic_per_class(out_folder, out_dir, gt_json, gt_folder, backend='hotcoco'):
    """PQ, SQ and RQ (percent) of every class from ``tools/test.py --out DIR`` of a panoptic
    config (``DIR/panoptic.json`` + ``DIR/panoptic/``) against the ground truth."""
    pred_json, pred_folder = osp.join(out_folder, 'panoptic.json'), osp.join(out_folder, 'panoptic')
    for path in (pred_json, pred_folder, gt_json, gt_folder):
        if not osp.exists(path):
            raise DataError(f'{path}: does not exist (panoptic results: tools/test.py --out DIR)')
    files = (gt_json, pred_json, gt_folder, pred_folder)
    pq = pq_hotcoco(*files) if backend == 'hotcoco' else pq_panopticapi(*files)
    with open(gt_json) as f:
        cats = {c['id']: c for c in json.load(f)['categories']}
    rows, names, values = [], [], []
    for cat_id, m in sorted(pq['per_class'].items()):
        name = cats[cat_id]['name']
        kind = 'thing' if cats[cat_id].get('isthing') else 'stuff'
        rows.append([name, kind, *(f'{100 * m[k]:.2f}' for k in ('pq', 'sq', 'rq'))])
        names.append(name)
        values.append(100 * m['pq'])
    paths = _write(out_dir, 'PQ', ['class', 'kind', 'PQ', 'SQ', 'RQ'], rows, names, values, 'PQ')
    return dict(zip(names, values)), paths
