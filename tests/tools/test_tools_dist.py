"""tools/dist_train.sh and tools/dist_test.sh: two CPU processes (gloo) on a tiny config."""

import json
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.registry import MODELS, init_default_scope

from pvtv2_dense.checkpoint import read_checkpoint
from tests.helpers.common import ROOT, tiny_seg_cfg
from tests.helpers.tools import run_script


def write_cfg(ade_root, tmp_path, max_iters):
    """The tiny segmentation config as a file, without a validation loop (faster)."""
    cfg = tiny_seg_cfg(ade_root, tmp_path / 'work', max_iters=max_iters)
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    path = str(tmp_path / 'tiny_seg.py')
    cfg.dump(path)
    return path, cfg


@pytest.mark.slow
def test_dist_train_then_dist_test_on_cpu(ade_root, tmp_path):
    config, cfg = write_cfg(ade_root, tmp_path, max_iters=2)
    work = str(tmp_path / 'train')
    run_script('dist_train.sh', config, '2', '--work-dir', work)
    ckpt = osp.join(work, 'iter_2.pth')
    assert osp.isfile(ckpt)
    logs = [osp.join(r, f) for r, _, fs in os.walk(work) for f in fs if f.endswith('.log')]
    log = open(logs[0]).read()
    assert 'Distributed training: True' in log and "'backend': 'gloo'" in log
    assert 'GPU number: 2' in log  # mmengine's name for the world size

    test_work = str(tmp_path / 'test')
    run_script('dist_test.sh', config, ckpt, '2', '--work-dir', test_work)
    metrics = json.load(open(osp.join(test_work, 'test_metrics.json')))
    assert {'aAcc', 'mIoU', 'mAcc'} <= set(metrics)

    # Two processes split the images, gather them back, and report what one process reports.
    single_work = str(tmp_path / 'test_single')
    single = subprocess.run(
        [
            sys.executable,
            osp.join(ROOT, 'tools', 'test.py'),
            config,
            ckpt,
            '--work-dir',
            single_work,
        ],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert single.returncode == 0, single.stderr[-3000:]
    expected = json.load(open(osp.join(single_work, 'test_metrics.json')))
    assert set(metrics) == set(expected)
    for key in ('aAcc', 'mIoU', 'mAcc'):
        assert metrics[key] == pytest.approx(expected[key], abs=1e-6), key

    # The checkpoint loads, exactly, into a model built in this single process.
    init_default_scope('mmseg')
    cfg.model.decode_head.norm_cfg = dict(type='BN', requires_grad=True)
    model = MODELS.build(cfg.model)
    state = read_checkpoint(ckpt)['state_dict']
    assert not any(k.startswith('module.') for k in state)
    model.load_state_dict(state, strict=True)
    for key, value in model.state_dict().items():
        assert torch.equal(value, state[key]), key
