"""The Deformable DETR configs: the COCO recipe, neck widths that follow the backbone, the CPU path
of mmcv's deformable attention, and the two-stage variant's forward pass."""

import glob
import os.path as osp

import pytest
import torch
from mmcv.ops import multi_scale_deform_attn
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmengine.config import Config
from mmengine.registry import init_default_scope

from pvtv2_dense.models.backbones.pvt_v2 import resolve_arch
from pvtv2_dense.models.layers.msda_attention import set_msda_impl
from tests.helpers.common import ROOT

DET_CONFIGS = sorted(
    glob.glob(osp.join(ROOT, 'configs', 'deformable_detr', '*.py'))
    + glob.glob(osp.join(ROOT, 'configs', 'quickstart', 'deformable-detr*.py'))
)
COCO_CONFIGS = [p for p in DET_CONFIGS if p.endswith('_coco.py')]
ALGOS = ('deformable-detr', 'deformable-detr-refine', 'deformable-detr-refine-twostage')
ARCHS = ('b0', 'b1', 'b2', 'b2-li', 'b3', 'b4', 'b5')
_ids = dict(ids=lambda p: osp.basename(p))


def test_every_variant_has_three_configs():
    names = {osp.basename(p) for p in COCO_CONFIGS}
    for arch in ARCHS:
        for algo in ALGOS:
            assert f'{algo}_pvtv2-{arch}_16xb2-50e_coco.py' in names


@pytest.mark.parametrize('path', DET_CONFIGS, **_ids)
def test_neck_follows_backbone_widths(path):
    model = Config.fromfile(path).model
    widths = resolve_arch(model.backbone.arch)['hidden_sizes']
    assert model.neck.in_channels == [widths[i] for i in model.backbone.out_indices]
    assert model.neck.num_outs == model.num_feature_levels == len(model.neck.in_channels) + 1


@pytest.mark.parametrize('path', COCO_CONFIGS, **_ids)
def test_coco_recipe(path):
    cfg = Config.fromfile(path)
    name = osp.basename(path)
    arch = name.split('_pvtv2-')[1].split('_')[0]
    assert cfg.model.backbone.arch == arch
    assert cfg.model.backbone.out_indices == (1, 2, 3)
    assert cfg.model.backbone.init_cfg.checkpoint == f'pvt_v2_{arch.replace("-", "_")}'
    assert cfg.model.num_queries == 300 and cfg.model.num_feature_levels == 4
    assert cfg.model.with_box_refine == ('refine' in name)
    assert cfg.model.as_two_stage == ('twostage' in name)
    assert cfg.model.encoder.num_layers == cfg.model.decoder.num_layers == 6
    optim = cfg.optim_wrapper
    assert optim.optimizer == dict(type='AdamW', lr=2e-4, weight_decay=1e-4)
    assert optim.clip_grad.max_norm == 0.1
    keys = optim.paramwise_cfg.custom_keys
    for key in ('backbone', 'sampling_offsets', 'reference_points'):
        assert keys[key].lr_mult == 0.1
    assert cfg.train_cfg.max_epochs == 50
    (step,) = cfg.param_scheduler
    assert step.type == 'MultiStepLR' and step.milestones == [40] and step.gamma == 0.1
    assert cfg.auto_scale_lr.base_batch_size == 16 * 2 == 16 * cfg.train_dataloader.batch_size
    assert cfg.train_dataloader.dataset.type == 'CheckedCocoDataset'
    assert not cfg.train_dataloader.dataset.filter_cfg.filter_empty_gt


def _batch(size):
    h, w = size
    meta = dict(img_shape=(h, w), ori_shape=(h, w), scale_factor=(1.0, 1.0))
    image = torch.randint(0, 256, (3, h, w), dtype=torch.uint8)
    return dict(inputs=[image], data_samples=[DetDataSample(metainfo=meta)])


def test_two_stage_runs_on_cpu_with_pytorch_deformable_attention(monkeypatch):
    """The unchanged COCO config runs on CPU: with msda_impl='mmcv' mmcv takes its pure-PyTorch
    path there; the shipped 'auto' runs the lean kernel instead (and never mmcv's path).

    Two-stage picks its 300 queries among the encoder's tokens, so the input must give at
    least 300 of them (128 x 128: 16^2 + 8^2 + 4^2 + 2^2 = 340).
    """
    name = 'deformable-detr-refine-twostage_pvtv2-b0_16xb2-50e_coco.py'
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'deformable_detr', name))
    calls = []
    pytorch_impl = multi_scale_deform_attn.multi_scale_deformable_attn_pytorch

    def counting(*args, **kwargs):
        calls.append(args[0].device.type)
        return pytorch_impl(*args, **kwargs)

    monkeypatch.setattr(multi_scale_deform_attn, 'multi_scale_deformable_attn_pytorch', counting)
    init_default_scope('mmdet')
    boxes = {}
    backbone = {**cfg.model.backbone, 'init_cfg': None}  # no download; random weights
    model = MODELS.build({**cfg.model, 'backbone': backbone, 'msda_impl': 'mmcv'})
    torch.manual_seed(0)
    model.init_weights()  # every parameter set (a built module may hold uninitialised memory)
    model.eval()
    batch = _batch((128, 128))
    for impl in ('mmcv', 'auto'):
        calls.clear()
        set_msda_impl(model, impl)  # the same weights, the other kernel
        with torch.no_grad():
            (result,) = model.test_step(batch)
        assert result.pred_instances.bboxes.shape == (100, 4)
        boxes[impl] = result.pred_instances.bboxes
        assert calls == (['cpu'] * 12 if impl == 'mmcv' else [])  # 6 encoder + 6 decoder layers
    torch.testing.assert_close(boxes['auto'], boxes['mmcv'], rtol=1e-4, atol=1e-3)
