"""Cascade Mask R-CNN 4conv1fc-GIoU, built from the shipped 3x config, trains a step and predicts on
CPU (random weights, tiny inputs): the three ConvFC box heads with LocalSyncBN and the GIoU loss on
decoded boxes, mmdet's CascadeRoIHead and the FCN mask head. The backbone is swapped for b0 to keep
it cheap (PVTv2-b2 itself is tested in tests/models/test_backbone*.py)."""

import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import DefaultScope, init_default_scope
from mmengine.structures import InstanceData

import pvtv2_dense  # noqa: F401  (registers PVTv2 and LocalSyncBN)
from tests.helpers.common import ROOT

CONFIG = (
    'configs/cascade_mask_rcnn/cascade-mask-rcnn_pvtv2-b2_fpn_4conv1fc-giou_amp-ms-crop-3x_coco.py'
)
SIZE = (96, 128)  # h, w: a multiple of 32, as the preprocessor pads to anyway


def _batch():
    from mmdet.structures import DetDataSample
    from mmdet.structures.mask import BitmapMasks

    rng = np.random.default_rng(0)
    h, w = SIZE
    inputs, samples = [], []
    for _ in range(2):
        inputs.append(torch.from_numpy(rng.integers(0, 256, (3, h, w), dtype=np.uint8)))
        meta = dict(img_shape=SIZE, ori_shape=SIZE, scale_factor=(1.0, 1.0), pad_shape=SIZE)
        boxes = torch.tensor([[10.0, 12.0, 60.0, 70.0], [50.0, 30.0, 120.0, 90.0]])
        masks = np.zeros((2, h, w), np.uint8)
        for mask, (x0, y0, x1, y1) in zip(masks, boxes.int().tolist()):
            mask[y0:y1, x0:x1] = 1
        gt = InstanceData(
            bboxes=boxes, labels=torch.tensor([3, 17]), masks=BitmapMasks(masks, h, w)
        )
        samples.append(DetDataSample(metainfo=meta, gt_instances=gt))
    return dict(inputs=inputs, data_samples=samples)


@pytest.mark.slow  # three 4-conv box heads and a mask head, backward included: ~10-30 s on CPU
def test_cascade_mask_rcnn_trains_a_step_and_predicts_on_cpu():
    torch.manual_seed(0)
    cfg = Config.fromfile(osp.join(ROOT, CONFIG))
    cfg.model.backbone.init_cfg = None  # random weights: nothing is downloaded
    cfg.model.backbone.arch = 'b0'
    cfg.model.neck.in_channels = [32, 64, 160, 256]
    # mmengine's AmpOptimWrapper needs a GPU; the recipe's optimizer itself is kept.
    cfg.optim_wrapper.type = 'OptimWrapper'
    # Fewer proposals and sampled RoIs: the 4-conv heads cost ~60 GMACs per 512 RoIs per stage.
    cfg.model.train_cfg.rpn_proposal.max_per_img = 64
    for stage in cfg.model.train_cfg.rcnn:
        stage.sampler.num = 32
    cfg.model.test_cfg.rpn.max_per_img = 32
    init_default_scope('mmdet')
    with DefaultScope.overwrite_default_scope('mmdet'):
        from mmengine.registry import MODELS

        model = MODELS.build(cfg.model)
        optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    heads = model.roi_head.bbox_head
    assert [type(h.shared_convs[0].bn).__name__ for h in heads] == ['LocalSyncBatchNorm'] * 3
    model.train()
    before = model.backbone.layers[0].patch_embed.proj.weight.detach().clone()
    losses = model.train_step(_batch(), optim_wrapper)
    assert losses and all(torch.isfinite(v).all() for v in losses.values()), losses
    # One box, class and mask loss per cascade stage.
    for stage in range(3):
        assert {f's{stage}.loss_bbox', f's{stage}.loss_cls', f's{stage}.loss_mask'} <= set(losses)
    after = model.backbone.layers[0].patch_embed.proj.weight
    assert not torch.equal(before, after), 'one optimizer step left the backbone unchanged'
    model.eval()
    with torch.no_grad():
        results = model.test_step(_batch())
    assert len(results) == 2
    pred = results[0].pred_instances
    assert pred.bboxes.shape[1] == 4 and len(pred.bboxes) == len(pred.scores) <= 100
    assert tuple(pred.masks.shape[1:]) == SIZE
