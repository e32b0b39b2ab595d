"""tools/train.py then tools/test.py on a tiny ADE20K-layout set: mIoU through IoUMetric,
whole-image and sliding-window inference."""

import json
import os.path as osp
import subprocess
import sys

import mmengine
import numpy as np
import pytest

from tests.helpers.common import ROOT, tiny_seg_cfg


def _run(args, cwd):
    run = subprocess.run(
        [sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=240
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-4000:]
    return run


@pytest.fixture(scope='module')
def trained(ade_root, tmp_path_factory):
    work = tmp_path_factory.mktemp('seg_run')
    cfg = tiny_seg_cfg(ade_root, work, max_iters=2)
    cfg.train_dataloader.dataset.type = 'CheckedADE20KDataset'
    cfg.test_dataloader.dataset.type = 'CheckedADE20KDataset'
    cfg.val_dataloader = cfg.test_dataloader
    path = osp.join(work, 'cfg.py')
    cfg.dump(path)
    _run([osp.join(ROOT, 'tools/train.py'), path], ROOT)
    ckpt = osp.join(work, 'iter_2.pth')
    assert osp.isfile(ckpt)
    return path, ckpt, work


@pytest.mark.parametrize(
    'mode',
    [
        [],
        [
            '--cfg-options',
            'model.test_cfg.mode=slide',
            'model.test_cfg.crop_size=(32,32)',
            'model.test_cfg.stride=(24,24)',
        ],
    ],
    ids=['whole', 'slide'],
)
@pytest.mark.slow
def test_test_reports_the_miou_of_its_predictions(trained, mode):
    """The mIoU in test_metrics.json is the one the dumped predictions and labels give."""
    path, ckpt, work = trained
    out = osp.join(work, 'test_' + ('slide' if mode else 'whole'))
    preds = osp.join(out, 'preds.pkl')
    _run(
        [osp.join(ROOT, 'tools/test.py'), path, ckpt, '--work-dir', out, '--out', preds, *mode],
        ROOT,
    )
    with open(osp.join(out, 'test_metrics.json')) as f:
        metrics = json.load(f)
    samples = mmengine.load(preds)
    assert len(samples) == 4  # the validation images
    inter, union = np.zeros(150), np.zeros(150)
    for sample in samples:
        pred = np.asarray(sample['pred_sem_seg']['data']).ravel()
        label = np.asarray(sample['gt_sem_seg']['data']).ravel()
        pred, label = pred[label != 255], label[label != 255]
        for c in range(150):
            p, t = pred == c, label == c
            inter[c] += (p & t).sum()
            union[c] += (p | t).sum()
    present = union > 0  # classes neither predicted nor labelled: NaN in mmseg, left out
    iou = inter[present] / union[present]
    assert metrics['mIoU'] == pytest.approx(100 * iou.mean(), abs=0.01)
