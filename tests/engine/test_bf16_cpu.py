"""bfloat16 mixed precision on the CPU (``CpuBf16OptimWrapper``, what ``tools/train.py --amp``
selects without a GPU): every task's quickstart model trains three steps through its own
``train_step`` under CPU autocast, with finite losses, gradients and weights, and losses within
a stated tolerance of the same steps in float32."""

import copy
import math
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import MODELS, init_default_scope
from mmengine.structures import BaseDataElement, InstanceData, PixelData

from pvtv2_dense.engine import CpuBf16OptimWrapper

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
QUICKSTART = {
    'segformer': 'segformer_pvtv2-b0_1xb8-600iter_synthetic-ade-64x64.py',
    'glpn': 'glpn_pvtv2-b0_1xb8-1000iter_synthetic-nyu-64x64.py',
    'deformable_detr': 'deformable-detr-refine_pvtv2-b0_1xb8-600iter_synthetic-coco-64x64.py',
    'panoptic': 'panoptic-segformer_pvtv2-b0_1xb8-800iter_synthetic-coco-panoptic-64x64.py',
    'classifier': 'pvtv2-b0_1xb32-12e_synthetic-in1k-64x64.py',
}
SIZE, STEPS = 64, 3
# bfloat16 keeps 8 significant bits (relative rounding 2**-9 per value); after a few hundred
# rounded products and sums a loss moves by a few 1e-3 of itself, and the updates it drives
# compound over the steps. Measured here: at most ~1% (see the assertion message on failure).
REL_TOL = 0.03


def _cfg(task):
    cfg = Config.fromfile(osp.join(ROOT, 'configs/quickstart', QUICKSTART[task]))
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    return cfg


def _meta():
    shape = (SIZE, SIZE)
    return dict(img_shape=shape, ori_shape=shape, pad_shape=shape, scale_factor=(1.0, 1.0),
                flip=False, flip_direction=None)  # fmt: skip


def _batch(task, cfg, n=2):
    """A training batch as the task's dataloader yields it: uint8 images and data samples."""
    g = torch.Generator().manual_seed(0)
    images = [torch.randint(0, 256, (3, SIZE, SIZE), generator=g, dtype=torch.uint8)
              for _ in range(n)]  # fmt: skip
    samples = []
    for _ in range(n):
        if task in ('segformer', 'glpn'):
            from mmseg.structures import SegDataSample

            sample = SegDataSample(metainfo=_meta())
            if task == 'segformer':
                num = cfg.model.decode_head.num_classes
                sample.gt_sem_seg = PixelData(data=torch.randint(0, num, (1, SIZE, SIZE), generator=g))
            else:
                sample.gt_depth_map = PixelData(data=0.5 + 9 * torch.rand(1, SIZE, SIZE, generator=g))
        elif task == 'classifier':
            sample = BaseDataElement(metainfo=_meta())
            sample.gt_label = torch.randint(0, cfg.model.num_classes, (1,), generator=g)
        else:
            sample = _det_sample(task, cfg, g)
        samples.append(sample)
    return dict(inputs=images, data_samples=samples)


def _det_sample(task, cfg, g, num_gt=3):
    from mmdet.structures import DetDataSample
    from mmdet.structures.mask import BitmapMasks

    sample = DetDataSample(metainfo=_meta())
    head = cfg.model.bbox_head
    things = head.get('num_things_classes', head.get('num_classes'))
    x0y0 = torch.randint(0, SIZE // 2, (num_gt, 2), generator=g)
    x1y1 = x0y0 + torch.randint(8, SIZE // 2, (num_gt, 2), generator=g)
    boxes = torch.cat([x0y0, x1y1], 1).float()
    labels = torch.randint(0, things, (num_gt,), generator=g)
    sample.gt_instances = InstanceData(bboxes=boxes, labels=labels)
    if task == 'panoptic':
        sem = torch.full((SIZE, SIZE), things, dtype=torch.long)  # first stuff class on top
        sem[SIZE // 2 :] = things + 1
        masks = torch.zeros(num_gt, SIZE, SIZE, dtype=torch.uint8)
        for k, (a, b, c, d) in enumerate(boxes.long().tolist()):
            masks[k, b:d, a:c] = 1
            sem[masks[k].bool()] = labels[k]
        sample.gt_instances.masks = BitmapMasks(masks.numpy(), SIZE, SIZE)
        sample.gt_sem_seg = PixelData(sem_seg=sem[None])
    return sample


def _train(task, wrapper):
    """Per-step losses and the model after ``STEPS`` steps with optim wrapper ``wrapper``."""
    cfg = _cfg(task)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    optim = build_optim_wrapper(
        model, dict(type=wrapper, optimizer=dict(type='AdamW', lr=1e-3, weight_decay=1e-4))
    )
    batch, seen = _batch(task, cfg), []
    model.backbone.register_forward_hook(
        lambda m, i, out: seen.append((torch.is_autocast_enabled('cpu'), out[-1].dtype))
    )
    losses = []
    for step in range(STEPS):
        torch.manual_seed(100 + step)  # the same dropout / drop-path draws in both precisions
        log_vars = model.train_step(copy.deepcopy(batch), optim)
        losses.append(float(log_vars['loss'].detach()))
        # A non-finite gradient would reach the weights through AdamW (the wrapper has already
        # cleared the gradients here).
        assert all(torch.isfinite(p).all() for p in model.parameters()), f'{task}: weight not finite'
    return losses, seen


@pytest.mark.parametrize('task', list(QUICKSTART))
def test_quickstart_model_trains_under_cpu_bf16_close_to_fp32(task):
    ref, seen32 = _train(task, 'OptimWrapper')
    losses, seen16 = _train(task, 'CpuBf16OptimWrapper')
    assert seen32[0] == (False, torch.float32)
    assert seen16[0] == (True, torch.bfloat16), 'the forward pass ran without bf16 autocast'
    assert all(math.isfinite(v) for v in losses + ref)
    worst = max(abs(a - b) / abs(b) for a, b in zip(losses, ref))
    print(task, 'bf16', losses, 'fp32', ref, f'{worst:.3%}')
    assert worst < REL_TOL, f'{task}: bf16 losses {losses} vs fp32 {ref} ({worst:.2%} apart)'


def test_cpu_bf16_wrapper_leaves_autocast_after_the_step():
    model = torch.nn.Linear(4, 2)
    optim = CpuBf16OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    with optim.optim_context(model):
        assert torch.is_autocast_enabled('cpu')
        out = model(torch.randn(3, 4))
    assert out.dtype == torch.bfloat16 and not torch.is_autocast_enabled('cpu')
