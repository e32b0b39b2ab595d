"""FastCocoMetric and FastCocoPanopticMetric report what mmdet's metrics report: the same keys
and values with every backend, fed the same data samples (synthetic detections and panoptic
predictions), and refuse settings their backend cannot honour."""

import json

import numpy as np
import pytest
import torch
from mmdet.evaluation.functional import INSTANCE_OFFSET
from mmdet.evaluation.metrics import CocoPanopticMetric

from pvtv2_dense.datasets.synthetic.coco_panoptic import CLASSES, STUFF_CLASSES, THING_CLASSES
from pvtv2_dense.errors import ConfigError
from pvtv2_dense.evaluation import FastCocoMetric, FastCocoPanopticMetric, panoptic_evaluators
from pvtv2_dense.evaluation.synthetic_panoptic import make_panoptic_results
from pvtv2_dense.evaluation.synthetic_results import make_detection_results


def _det_samples(gt, bbox, segm):
    """mmdet data samples (xyxy boxes, label indices, RLE masks) holding the results."""
    by_image = {}
    for b, s in zip(bbox, segm):
        by_image.setdefault(b['image_id'], []).append((b, s))
    samples = []
    for img in gt['images']:
        dets = by_image.get(img['id'], [])
        boxes = torch.tensor(
            [[x, y, x + w, y + h] for (x, y, w, h) in (b['bbox'] for b, _ in dets)]
        )
        pred = dict(
            bboxes=boxes.reshape(-1, 4),
            scores=torch.tensor([b['score'] for b, _ in dets]),
            labels=torch.tensor([b['category_id'] - 1 for b, _ in dets]),
            masks=[dict(s['segmentation']) for _, s in dets],
        )
        shape = (img['height'], img['width'])
        samples.append(dict(img_id=img['id'], ori_shape=shape, pred_instances=pred))
    return samples


def _run_det(metric, samples, classes):
    metric.dataset_meta = dict(classes=classes)
    metric.process({}, samples)
    return metric.compute_metrics(metric.results)


@pytest.mark.parametrize('num_classes, dets', [(5, 30), (1, 150)])
def test_fast_coco_metric_reports_pycocotools_numbers(tmp_path, num_classes, dets):
    # One class with 150 detections per image: pycocotools reads AP at 100 detections while
    # mmdet asks for maxDets (100, 300, 1000); the faster backend must read it there too.
    gt, bbox, segm = make_detection_results(12, dets, num_classes, size=(60, 80), seed=1)
    ann_file = tmp_path / 'gt.json'
    ann_file.write_text(json.dumps(gt))
    classes = tuple(c['name'] for c in gt['categories'])
    samples = _det_samples(gt, bbox, segm)
    out = {}
    for backend in ('pycocotools', 'faster_coco_eval'):
        metric = FastCocoMetric(
            ann_file=str(ann_file), metric=['bbox', 'segm'], classwise=True, backend=backend
        )
        out[backend] = _run_det(metric, samples, classes)
    assert out['faster_coco_eval'] == out['pycocotools']
    assert 0 < out['pycocotools']['bbox_mAP'] < 1 and 0 < out['pycocotools']['segm_mAP'] < 1
    assert f'{classes[0]}_precision' in out['pycocotools']


def test_fast_coco_metric_refuses_what_it_cannot_do(tmp_path):
    with pytest.raises(ConfigError, match="backend='hotcoco', expected one of"):
        FastCocoMetric(backend='hotcoco')
    with pytest.raises(ConfigError, match="use_mp_eval=True .* backend='pycocotools'"):
        FastCocoMetric(use_mp_eval=True)
    with pytest.raises(ConfigError, match='backend_args.backend'):
        FastCocoPanopticMetric(backend_args=dict(backend='petrel'))


def _pan_samples(paths):
    """mmdet panoptic data samples (label + instance * INSTANCE_OFFSET, VOID = num classes)."""
    import cv2

    from pvtv2_dense.datasets.synthetic.coco_panoptic import CATEGORIES

    label_of = {c['id']: i for i, c in enumerate(CATEGORIES)}
    with open(paths['pred_json']) as f:
        pred = json.load(f)
    samples = []
    for ann in pred['annotations']:
        rgb = cv2.imread(f'{paths["pred_folder"]}/{ann["file_name"]}')[..., ::-1].astype(np.int64)
        ids = rgb[..., 0] + 256 * rgb[..., 1] + 256**2 * rgb[..., 2]
        pan = np.full(ids.shape, len(CLASSES), np.int64)
        for k, seg in enumerate(ann['segments_info']):
            pan[ids == seg['id']] = label_of[seg['category_id']] + (k + 1) * INSTANCE_OFFSET
        samples.append(
            dict(
                img_id=ann['image_id'],
                img_path=ann['file_name'].replace('.png', '.jpg'),
                ori_shape=ids.shape,
                pred_panoptic_seg=dict(sem_seg=torch.from_numpy(pan)[None]),
            )
        )
    return samples


def test_fast_panoptic_metric_reports_mmdet_numbers(tmp_path):
    paths = make_panoptic_results(str(tmp_path / 'pq'), num_images=16, seed=2)
    meta = dict(classes=CLASSES, thing_classes=THING_CLASSES, stuff_classes=STUFF_CLASSES)
    common = dict(ann_file=paths['gt_json'], seg_prefix=paths['gt_folder'], classwise=True)
    metrics = {
        'mmdet': CocoPanopticMetric(**common),
        'hotcoco': FastCocoPanopticMetric(**common),
        'panopticapi': FastCocoPanopticMetric(backend='panopticapi', nproc=2, **common),
    }
    out = {}
    for name, metric in metrics.items():
        metric.dataset_meta = meta
        # Fresh samples each: mmdet's metric writes VOID into the prediction tensor it reads.
        metric.process({}, _pan_samples(paths))
        out[name] = metric.compute_metrics(metric.results)
    assert metrics['hotcoco'].tmp_dir is None  # the deferred path, PQ computed once at the end
    assert out['hotcoco'] == pytest.approx(out['mmdet'])
    assert out['panopticapi'] == pytest.approx(out['mmdet'])
    assert 20 < out['mmdet']['PQ'] < 95


def test_panoptic_results_accept_the_fast_metric():
    from mmengine.config import Config

    cfg = Config(dict(test_evaluator=[dict(type='FastCocoPanopticMetric'), dict(type='Other')]))
    assert [e['type'] for e in panoptic_evaluators(cfg)] == ['FastCocoPanopticMetric']
