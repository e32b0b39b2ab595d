"""tools/train.py then tools/test.py with a tiny PVTv2 Deformable DETR on a synthetic COCO-layout
set that also holds an image without objects, a grayscale JPEG and an RGBA PNG; COCO bbox mAP
comes from mmdet's CocoMetric."""

import json
import os
import os.path as osp
import shutil
import subprocess
import sys

import cv2
import numpy as np
import pytest
from mmengine.config import Config
from mmengine.fileio import load

from pvtv2_dense.datasets import generate_coco
from tests.helpers.common import ROOT
from tests.helpers.detection import tiny_det_cfg


def _add_odd_images(root, split, first_ann_id):
    """Append an image without objects, a grayscale JPEG and an RGBA PNG to a split."""
    path = osp.join(root, 'annotations', f'instances_{split}2017.json')
    with open(path) as f:
        data = json.load(f)
    rng = np.random.default_rng(0)
    next_img = max(i['id'] for i in data['images']) + 1
    base = rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)
    gray = cv2.cvtColor(base, cv2.COLOR_BGR2GRAY)
    rgba = np.dstack([base, np.full((64, 64), 128, np.uint8)])
    for k, (name, img, with_box) in enumerate(
        [('empty.jpg', base, False), ('gray.jpg', gray, True), ('rgba.png', rgba, True)]
    ):
        assert cv2.imwrite(osp.join(root, f'{split}2017', name), img)
        img_id = next_img + k
        data['images'].append(dict(id=img_id, file_name=name, width=64, height=64))
        if with_box:
            data['annotations'].append(
                dict(
                    id=first_ann_id + k,
                    image_id=img_id,
                    category_id=2,
                    bbox=[8.0, 8.0, 30.0, 20.0],
                    area=600.0,
                    iscrowd=0,
                )
            )
    with open(path, 'w') as f:
        json.dump(data, f)


def _coco_bbox_stats(cfg_path, results):
    """COCO bbox AP, AP50 and AP75 of dumped predictions, computed by pycocotools directly."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    cfg = Config.fromfile(cfg_path)
    gt = COCO(cfg.test_evaluator.ann_file)
    classes = cfg.test_dataloader.dataset.metainfo['classes']
    cat_ids = gt.getCatIds(catNms=list(classes))
    by_name = {osp.basename(img['file_name']): img['id'] for img in gt.dataset['images']}
    dets = []
    for result in results:
        inst = result['pred_instances']
        for (x0, y0, x1, y1), score, label in zip(
            np.asarray(inst['bboxes']).tolist(),
            np.asarray(inst['scores']).tolist(),
            np.asarray(inst['labels']).tolist(),
        ):
            dets.append(
                dict(
                    image_id=by_name[osp.basename(result['img_path'])],
                    category_id=cat_ids[label],
                    bbox=[x0, y0, x1 - x0, y1 - y0],
                    score=score,
                )
            )
    evaluator = COCOeval(gt, gt.loadRes(dets), 'bbox')
    evaluator.evaluate()
    evaluator.accumulate()
    evaluator.summarize()
    return [max(float(s), -1.0) for s in evaluator.stats[:3]]


def _run(args):
    # One thread: a 2-core machine running several jobs slows down badly with more.
    env = dict(os.environ, OMP_NUM_THREADS='1')
    run = subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=300, env=env
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-4000:]
    return run


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    base = str(tmp_path_factory.mktemp('det_data'))
    root = osp.join(base, 'odd')
    shutil.copytree(generate_coco(base, num_train=3, num_val=2, seed=2), root)
    _add_odd_images(root, 'train', 1000)
    _add_odd_images(root, 'val', 2000)
    work = tmp_path_factory.mktemp('det_run')
    cfg = tiny_det_cfg(root, work)
    path = osp.join(work, 'cfg.py')
    cfg.dump(path)
    run = _run([osp.join(ROOT, 'tools/train.py'), path])
    ckpt = osp.join(work, 'epoch_1.pth')
    assert osp.isfile(ckpt), run.stdout[-2000:]
    return path, ckpt, work, run.stdout + run.stderr


@pytest.mark.slow
def test_train_runs_over_every_image(trained):
    *_, log = trained
    # 6 training images (3 shapes, empty, grayscale, RGBA) in batches of 2: 3 iterations.
    assert 'Epoch(train) [1][3/3]' in log
    assert 'loss_bbox' in log


@pytest.mark.slow
def test_test_reports_coco_bbox_map(trained):
    path, ckpt, work, _ = trained
    out = osp.join(work, 'test')
    preds = osp.join(out, 'preds.pkl')
    _run([osp.join(ROOT, 'tools/test.py'), path, ckpt, '--work-dir', out, '--out', preds])
    with open(osp.join(out, 'test_metrics.json')) as f:
        metrics = json.load(f)
    # Every held-out image was predicted: the 2 generated ones and the 3 odd ones.
    results = load(preds)
    # The mAP in test_metrics.json is the one pycocotools gives for the dumped predictions.
    stats = _coco_bbox_stats(path, results)
    for key, stat in zip(('coco/bbox_mAP', 'coco/bbox_mAP_50', 'coco/bbox_mAP_75'), stats):
        assert metrics[key] == pytest.approx(round(stat, 3), abs=1e-3), (key, metrics, stats)
    assert sorted(osp.basename(r['img_path']) for r in results)[-3:] == [
        'empty.jpg',
        'gray.jpg',
        'rgba.png',
    ]
    assert len(results) == 5
    assert all(len(r['pred_instances']['bboxes']) == 10 for r in results)
