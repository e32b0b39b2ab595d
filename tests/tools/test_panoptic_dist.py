"""Panoptic SegFormer with two CPU processes (gloo): tools/dist_train.sh, then tools/dist_test.sh
writing COCO panoptic results with ``--out``."""

import json
import os
import os.path as osp

import pytest
import torch
from mmengine.registry import MODELS, init_default_scope

from pvtv2_dense.checkpoint import read_checkpoint
from pvtv2_dense.datasets import generate_coco_panoptic
from tests.helpers.panoptic import tiny_panoptic_cfg
from tests.helpers.tools import run_script


@pytest.mark.slow
def test_dist_train_then_dist_test_writes_panoptic_results(tmp_path):
    root = generate_coco_panoptic(str(tmp_path / 'data'), num_train=4, num_val=3)
    cfg = tiny_panoptic_cfg(root, tmp_path / 'work', max_iters=2)
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    config = str(tmp_path / 'tiny_panoptic.py')
    cfg.dump(config)

    work = str(tmp_path / 'train')
    run_script('dist_train.sh', config, '2', '--work-dir', work, timeout=400)
    ckpt = osp.join(work, 'iter_2.pth')
    logs = [osp.join(r, f) for r, _, fs in os.walk(work) for f in fs if f.endswith('.log')]
    log = open(logs[0]).read()
    assert 'Distributed training: True' in log and "'backend': 'gloo'" in log
    assert 'GPU number: 2' in log  # mmengine's name for the world size

    out = str(tmp_path / 'results')
    test_work = str(tmp_path / 'test')
    run_script(
        'dist_test.sh', config, ckpt, '2', '--work-dir', test_work, '--out', out, timeout=400
    )
    metrics = json.load(open(osp.join(test_work, 'test_metrics.json')))
    assert {'coco_panoptic/PQ', 'coco_panoptic/SQ', 'coco_panoptic/RQ'} <= set(metrics)
    # Both processes' images are in the one results file, each with its PNG.
    results = json.load(open(osp.join(out, 'panoptic.json')))
    names = sorted(a['file_name'] for a in results['annotations'])
    assert len(names) == 3 and sorted(os.listdir(osp.join(out, 'panoptic'))) == names
    assert not osp.exists(out + '.partial')

    init_default_scope('mmdet')
    model = MODELS.build(cfg.model)
    state = read_checkpoint(ckpt)['state_dict']
    model.load_state_dict(state, strict=True)
    for key, value in model.state_dict().items():
        assert torch.equal(value, state[key]), key
