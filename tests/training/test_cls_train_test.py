"""tools/train.py and tools/test.py on classification: the b0 ImageNet config trains, its
checkpoint is evaluated and goes into the segmentation backbone, and an HF
``PvtV2ForImageClassification`` checkpoint is evaluated by path."""

import json
import os
import os.path as osp
import shutil
import subprocess
import sys

import mmengine
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS, MODELS

from pvtv2_dense.checkpoint import load_pretrained
from pvtv2_dense.datasets import generate_imagenet
from tests.helpers.common import ROOT

pytestmark = pytest.mark.slow
B0 = osp.join(ROOT, 'configs/pvtv2_cls/pvtv2-b0_8xb128-300e_in1k.py')
SEG_B0 = osp.join(ROOT, 'configs/segformer/segformer_pvtv2-b0_8xb2-160k_ade20k-512x512.py')


def _run(args):
    run = subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=400
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-4000:]
    return run


def _small_cfg(data_root, work_dir):
    """The b0 ImageNet config on the tiny set: batch 4, one epoch, no warmup, no workers."""
    cfg = Config.fromfile(B0)
    cfg.work_dir = str(work_dir)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].update(batch_size=4, num_workers=0, persistent_workers=False)
        cfg[loader].dataset.update(data_root=data_root, num_classes=10)
    cfg.model.num_classes = 10
    cfg.model.data_preprocessor.mixup.num_classes = 10
    cfg.param_scheduler[0].warmup_epochs = 0
    cfg.train_cfg.max_epochs = 1
    cfg.default_hooks.logger.interval = 1
    return cfg


@pytest.fixture(scope='module')
def data_root(tmp_path_factory):
    return generate_imagenet(str(tmp_path_factory.mktemp('in1k')), 2, 1, size=40, seed=5)


@pytest.fixture(scope='module')
def trained(data_root, tmp_path_factory):
    work = tmp_path_factory.mktemp('cls_run')
    path = osp.join(work, 'cfg.py')
    _small_cfg(data_root, work).dump(path)
    run = _run([osp.join(ROOT, 'tools/train.py'), path])
    ckpt = osp.join(work, 'epoch_1.pth')
    assert osp.isfile(ckpt), run.stdout[-2000:]
    return path, ckpt, work


def _accuracy(samples):
    hits = [int(s['pred_label'][0]) == int(s['gt_label'][0]) for s in samples]
    return 100 * float(np.mean(hits))


def test_b0_trains_and_tests_through_the_tools(trained):
    """The top-1 in test_metrics.json is the one the dumped predictions give."""
    path, ckpt, work = trained
    state = torch.load(ckpt, map_location='cpu', weights_only=True)['state_dict']
    assert state['head.weight'].shape == (10, 256)
    out = osp.join(work, 'test')
    preds = osp.join(out, 'preds.pkl')
    _run([osp.join(ROOT, 'tools/test.py'), path, ckpt, '--work-dir', out, '--out', preds])
    with open(osp.join(out, 'test_metrics.json')) as f:
        metrics = json.load(f)
    samples = mmengine.load(preds)
    assert len(samples) == 10
    assert metrics['accuracy/top1'] == pytest.approx(_accuracy(samples), abs=1e-4)
    assert metrics['accuracy/top5'] >= metrics['accuracy/top1']


def test_classification_checkpoint_loads_into_the_segmentation_backbone(trained):
    """Pretrain here, fine-tune there: every backbone tensor of SegFormer-b0 comes from it."""
    _, ckpt, _ = trained
    init_default_scope('mmseg')
    seg_cfg = Config.fromfile(SEG_B0).model
    seg_cfg.backbone.init_cfg = dict(type='Pretrained', checkpoint=ckpt)
    segmentor = MODELS.build(seg_cfg)
    missing, unexpected = load_pretrained(segmentor.backbone, ckpt, strict=True)
    assert missing == [] and unexpected == []
    segmentor.init_weights()
    trained_sd = torch.load(ckpt, map_location='cpu', weights_only=True)['state_dict']
    backbone = segmentor.backbone.state_dict()
    assert len(backbone) > 100
    for key, value in backbone.items():
        torch.testing.assert_close(value, trained_sd['backbone.' + key], rtol=0, atol=0)


def test_hf_classifier_checkpoint_is_evaluated_by_path(data_root, tmp_path):
    """An HF PvtV2ForImageClassification state dict, head included, gives HF's scores."""
    from transformers import PvtV2Config, PvtV2ForImageClassification

    small = dict(
        hidden_sizes=[16, 32, 64, 64],
        depths=[1, 1, 1, 1],
        num_attention_heads=[1, 2, 4, 4],
        mlp_ratios=[4, 4, 4, 4],
    )
    torch.manual_seed(0)
    hf = PvtV2ForImageClassification(PvtV2Config(**small, num_labels=10)).eval()
    ckpt = str(tmp_path / 'hf_pvt_v2_classifier.pth')
    torch.save(hf.state_dict(), ckpt)
    cfg = _small_cfg(data_root, tmp_path)
    # HF PvtV2 uses its config's one eps (1e-6) in every LayerNorm.
    cfg.model.backbone.arch = dict(small, layer_norm_eps=1e-6)
    path = str(tmp_path / 'cfg.py')
    cfg.dump(path)
    preds = str(tmp_path / 'preds.pkl')
    _run(
        [
            osp.join(ROOT, 'tools/test.py'),
            path,
            ckpt,
            '--work-dir',
            str(tmp_path / 'test'),
            '--out',
            preds,
        ]
    )
    samples = mmengine.load(preds)
    init_default_scope('mmseg')
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    preprocess = MODELS.build(cfg.model.data_preprocessor)
    for i in (0, 7):
        batch = preprocess(dict(inputs=[dataset[i]['inputs']], data_samples=None), False)
        with torch.no_grad():
            ref = hf(batch['inputs']).logits.softmax(-1)[0]
        assert samples[i]['img_path'] == dataset.get_data_info(i)['img_path']
        torch.testing.assert_close(samples[i]['pred_score'], ref, atol=1e-5, rtol=0)


def test_train_stops_on_a_listed_file_that_does_not_exist(data_root, tmp_path):
    """The message names the list file, its line and the missing image."""
    root = str(tmp_path / 'imagenet')
    shutil.copytree(data_root, root)
    missing = osp.join(root, 'train', 'n09000002', 'n09000002_1.JPEG')
    os.remove(missing)
    path = str(tmp_path / 'cfg.py')
    _small_cfg(root, tmp_path / 'work').dump(path)
    run = subprocess.run(
        [sys.executable, osp.join(ROOT, 'tools/train.py'), path],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert run.returncode != 0
    assert f'meta/train.txt line 6 lists {missing}, which does not exist' in run.stderr
