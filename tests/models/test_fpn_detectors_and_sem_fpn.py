"""RetinaNet, Mask R-CNN and Semantic FPN on PVTv2-b0, built from the shipped configs, train a step
and predict on CPU (random weights, tiny inputs; mmcv's RoIAlign and NMS have CPU kernels)."""

import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import DefaultScope, init_default_scope
from mmengine.structures import InstanceData, PixelData

import pvtv2_dense  # noqa: F401  (registers PVTv2 and the heads' datasets)
from tests.helpers.common import ROOT

RETINANET = 'configs/retinanet/retinanet_pvtv2-b0_fpn_1x_coco.py'
MASK_RCNN = 'configs/mask_rcnn/mask-rcnn_pvtv2-b0_fpn_1x_coco.py'
SEM_FPN = 'configs/sem_fpn/fpn_pvtv2-b0_8xb4-40k_ade20k-512x512.py'
SIZE = (96, 128)  # h, w: a multiple of 32, as the detectors' preprocessor pads to anyway


def _build(config, scope):
    cfg = Config.fromfile(osp.join(ROOT, config))
    cfg.model.backbone.init_cfg = None  # random weights: nothing is downloaded
    init_default_scope(scope)
    with DefaultScope.overwrite_default_scope(scope):
        from mmengine.registry import MODELS

        model = MODELS.build(cfg.model)
        optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    return model, optim_wrapper


def _det_batch(with_mask):
    from mmdet.structures import DetDataSample
    from mmdet.structures.mask import BitmapMasks

    rng = np.random.default_rng(0)
    h, w = SIZE
    inputs, samples = [], []
    for _ in range(2):
        inputs.append(torch.from_numpy(rng.integers(0, 256, (3, h, w), dtype=np.uint8)))
        meta = dict(img_shape=SIZE, ori_shape=SIZE, scale_factor=(1.0, 1.0), pad_shape=SIZE)
        boxes = torch.tensor([[10.0, 12.0, 60.0, 70.0], [50.0, 30.0, 120.0, 90.0]])
        gt = InstanceData(bboxes=boxes, labels=torch.tensor([3, 17]))
        if with_mask:
            masks = np.zeros((2, h, w), np.uint8)
            for mask, (x0, y0, x1, y1) in zip(masks, boxes.int().tolist()):
                mask[y0:y1, x0:x1] = 1
            gt.masks = BitmapMasks(masks, h, w)
        samples.append(DetDataSample(metainfo=meta, gt_instances=gt))
    return dict(inputs=inputs, data_samples=samples)


def _train_step_changes_the_backbone(model, optim_wrapper, batch):
    model.train()
    before = model.backbone.layers[0].patch_embed.proj.weight.detach().clone()
    losses = model.train_step(batch, optim_wrapper)
    assert losses and all(torch.isfinite(v).all() for v in losses.values()), losses
    after = model.backbone.layers[0].patch_embed.proj.weight
    assert not torch.equal(before, after), 'one optimizer step left the backbone unchanged'
    return losses


@pytest.mark.slow
@pytest.mark.parametrize('config', [RETINANET, MASK_RCNN], ids=['retinanet', 'mask-rcnn'])
def test_detector_trains_a_step_and_predicts_on_cpu(config):
    torch.manual_seed(0)
    with_mask = config == MASK_RCNN
    model, optim_wrapper = _build(config, 'mmdet')
    losses = _train_step_changes_the_backbone(model, optim_wrapper, _det_batch(with_mask))
    assert ('loss_mask' in losses) == with_mask
    model.eval()
    with torch.no_grad():
        results = model.test_step(_det_batch(with_mask))
    assert len(results) == 2
    pred = results[0].pred_instances
    assert pred.bboxes.shape[1] == 4 and len(pred.bboxes) == len(pred.scores) <= 100
    if with_mask:
        assert tuple(pred.masks.shape[1:]) == SIZE


@pytest.mark.slow
def test_semantic_fpn_trains_a_step_and_predicts_on_cpu():
    from mmseg.structures import SegDataSample

    torch.manual_seed(0)
    model, optim_wrapper = _build(SEM_FPN, 'mmseg')
    model.data_preprocessor.size = SIZE  # the config pads training crops to 512x512
    rng = np.random.default_rng(0)

    def batch():
        inputs, samples = [], []
        for _ in range(2):
            inputs.append(torch.from_numpy(rng.integers(0, 256, (3, *SIZE), dtype=np.uint8)))
            label = torch.from_numpy(rng.integers(0, 150, (1, *SIZE))).long()
            meta = dict(img_shape=SIZE, ori_shape=SIZE, pad_shape=SIZE)
            samples.append(SegDataSample(metainfo=meta, gt_sem_seg=PixelData(data=label)))
        return dict(inputs=inputs, data_samples=samples)

    losses = _train_step_changes_the_backbone(model, optim_wrapper, batch())
    assert set(losses) >= {'decode.loss_ce'}
    model.eval()
    with torch.no_grad():
        results = model.test_step(batch())
    assert [tuple(r.pred_sem_seg.data.shape[1:]) for r in results] == [SIZE, SIZE]
    assert int(results[0].pred_sem_seg.data.max()) < 150
