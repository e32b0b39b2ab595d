"""Every Panoptic SegFormer COCO config carries the official recipe (github.com/zhiqi-li/
Panoptic-SegFormer, configs/panformer/) for the backbone its file name says."""

import glob
import os.path as osp

import pytest
from mmengine.config import Config

from pvtv2_dense.models.backbones.pvt_v2 import ARCH_SETTINGS
from tests.helpers.common import ROOT

CONFIGS = sorted(glob.glob(f'{ROOT}/configs/panoptic_segformer/*.py'))
ARCHS = {'b0', 'b1', 'b2', 'b2-li', 'b3', 'b4', 'b5'}


def _arch(path):
    return osp.basename(path).split('_')[1].removeprefix('pvtv2-')


def test_every_size_has_a_2x_config_and_b0_a_1x():
    names = [osp.basename(p) for p in CONFIGS]
    assert {_arch(p) for p in CONFIGS if '-24e_' in p} == ARCHS
    assert 'panoptic-segformer_pvtv2-b0_8xb1-12e_coco-panoptic.py' in names


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_recipe(path):
    cfg = Config.fromfile(path)
    model, head = cfg.model, cfg.model.bbox_head
    arch = _arch(path)
    assert model.backbone.type == 'PVTv2' and model.backbone.arch == arch
    assert tuple(model.backbone.out_indices) == (1, 2, 3)
    # The official b5 result (55.6 PQ) started from the ImageNet-22K weights.
    weights = f'pvt_v2_{arch.replace("-", "_")}' + ('_22k' if arch == 'b5' else '')
    assert model.backbone.init_cfg.checkpoint == weights
    widths = ARCH_SETTINGS[arch]['hidden_sizes']
    assert list(model.neck.in_channels) == [widths[i] for i in (1, 2, 3)]
    assert model.neck.norm_cfg == dict(type='GN', num_groups=32) and model.neck.num_outs == 4
    assert model.num_queries == 300 and model.with_box_refine and not model.as_two_stage
    assert model.encoder.num_layers == 6 and model.decoder.num_layers == 6
    assert model.encoder.layer_cfg.ffn_cfg.feedforward_channels == 1024
    assert model.encoder.layer_cfg.ffn_cfg.ffn_drop == 0.1
    assert (head.num_things_classes, head.num_stuff_classes) == (80, 53)
    assert head.thing_mask_decoder.num_layers == 4
    assert head.stuff_mask_decoder.num_layers == 6 and head.stuff_mask_decoder.self_attn
    assert (head.loss_cls.alpha, head.loss_cls.gamma, head.loss_cls.loss_weight) == (0.25, 2.0, 2.0)
    assert head.loss_bbox.loss_weight == 5.0 and head.loss_iou.loss_weight == 2.0
    assert head.loss_mask.type == 'DiceLoss' and head.loss_mask.loss_weight == 2.0
    costs = {c.type: c.weight for c in model.train_cfg.assigner.match_costs}
    assert costs == {'FocalLossCost': 2.0, 'BBoxL1Cost': 5.0, 'IoUCost': 2.0}
    assert model.train_cfg.assigner.match_costs[1].box_format == 'xywh'
    mask_costs = {c.type: c.weight for c in model.train_cfg.mask_assigner.match_costs}
    assert mask_costs['DiceCost'] == 2.0
    quality = 0.3 if arch == 'b5' else 0.25
    assert model.test_cfg.quality_threshold_things == quality
    assert model.test_cfg.quality_threshold_stuff == quality
    assert (model.test_cfg.overlap_threshold_things, model.test_cfg.overlap_threshold_stuff) == (
        0.4,
        0.2,
    )

    optim = cfg.optim_wrapper
    assert optim.optimizer.type == 'AdamW'
    assert (optim.optimizer.lr, optim.optimizer.weight_decay) == (1.4e-4, 1e-4)
    assert optim.clip_grad.max_norm == 0.1
    mults = {k: v.lr_mult for k, v in optim.paramwise_cfg.custom_keys.items()}
    assert mults == {'backbone': 0.1, 'sampling_offsets': 0.1, 'reference_points': 0.1}
    epochs, step = (12, 8) if '-12e_' in path else (24, 18)
    assert cfg.train_cfg.max_epochs == epochs
    (sched,) = cfg.param_scheduler
    assert sched.type == 'MultiStepLR' and sched.milestones == [step] and sched.gamma == 0.1
    assert cfg.train_dataloader.batch_size == 1 and cfg.auto_scale_lr.base_batch_size == 8

    pipeline = {t.type: t for t in cfg.train_dataloader.dataset.pipeline}
    assert pipeline['CheckedLoadPanopticAnnotations'] and pipeline['RandomFlip'].prob == 0.5
    branches = pipeline['RandomChoice'].transforms
    assert [s[0] for s in branches[0][0].scales] == list(range(480, 801, 32))
    assert all(s[1] == 1333 for s in branches[0][0].scales)
    assert [s[0] for s in branches[1][0].scales] == [400, 500, 600]
    assert tuple(branches[1][1].crop_size) == (384, 600)
    test = {t.type: t for t in cfg.test_dataloader.dataset.pipeline}
    assert tuple(test['Resize'].scale) == (1333, 800) and test['Resize'].keep_ratio
    assert cfg.val_evaluator.type == 'FastCocoPanopticMetric'
