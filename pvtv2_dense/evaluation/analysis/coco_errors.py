"""COCO error analysis of a saved detection run: where the missing AP goes.

Two views, written to ``coco_errors.json`` and ``coco_errors.png``:

- precision-recall curves of all classes at IoU 0.75 (C75) and 0.5 (C50), at IoU 0.1 (Loc:
  localisation errors forgiven) and class-agnostic at IoU 0.1 (Oth: class confusions forgiven
  too), with their AP in the legend, as in the COCO detection analysis;
- the TIDE error types (hotcoco's ``tide_errors``): the AP gained by fixing each kind of error
  (Cls wrong class, Loc poor box, Both, Dupe duplicate, Bkg background false positive, Miss
  missed object) and how many of each there are.
"""

import os.path as osp

import numpy as np

from ...errors import ConfigError
from ..coco_backends import backend_classes
from .per_class import coco_gt_and_results
from .results_io import new_figure, save_figure, write_json

CURVES = (('C75', 0.75, True), ('C50', 0.5, True), ('Loc', 0.1, True), ('Oth', 0.1, False))


def _pr_curve(gt, dt, cat_ids, iou, use_cats, backend):
    _, eval_cls = backend_classes(backend)
    evaluator = eval_cls(gt, dt, 'bbox')
    evaluator.params.catIds = cat_ids
    evaluator.params.iouThrs = np.array([iou])
    evaluator.params.useCats = int(use_cats)
    evaluator.evaluate()
    evaluator.accumulate()
    # recall x class at IoU ``iou``, all areas, 100 detections; classes without objects are -1.
    precision = evaluator.eval['precision'][0, :, :, 0, -1]
    precision = precision[:, (precision > -1).all(0)]
    curve = precision.mean(1) if precision.size else np.zeros(precision.shape[0])
    return curve, float(curve.mean())


def _tide(results, ann_file, classes):
    try:
        import hotcoco  # noqa: F401
    except ImportError as e:
        raise ConfigError('the TIDE error types need the hotcoco package') from e
    gt, dt, cat_ids = coco_gt_and_results(results, ann_file, classes, backend='hotcoco')
    evaluator = backend_classes('hotcoco')[1](gt, dt, 'bbox')
    evaluator.evaluate()
    evaluator.accumulate()
    tide = evaluator.tide_errors()
    return dict(ap50=tide['ap_base'], delta_ap=tide['delta_ap'], counts=tide['counts'])


def coco_error_analysis(results, out_dir, classes, ann_file, backend='faster_coco_eval'):
    """Write the error analysis of ``results`` (``tools/test.py --out`` pickle) to ``out_dir``.

    Returns:
        (summary dict, {'json': path, 'png': path}).
    """
    gt, dt, cat_ids = coco_gt_and_results(results, ann_file, classes, backend)
    recall = np.linspace(0, 1, 101)
    summary, fig_ax = dict(curves={}), new_figure()
    fig, ax = fig_ax
    for name, iou, use_cats in CURVES:
        curve, ap = _pr_curve(gt, dt, cat_ids, iou, use_cats, backend)
        summary['curves'][name] = dict(iou=iou, class_aware=use_cats, AP=ap)
        ax.plot(recall, curve, label=f'[{ap:.3f}] {name}')
    ax.set_xlabel('recall')
    ax.set_ylabel('precision')
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.legend(loc='lower left')
    ax.set_title('COCO error analysis (all classes)')
    summary['tide'] = _tide(results, ann_file, classes)
    paths = dict(
        json=write_json(osp.join(out_dir, 'coco_errors.json'), summary),
        png=save_figure(fig, osp.join(out_dir, 'coco_errors.png')),
    )
    return summary, paths
