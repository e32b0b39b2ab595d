"""A few training steps of every task's quickstart model on a synthetic batch, in a chosen
precision: the CPU bfloat16 tests (``tests/engine/test_bf16_cpu.py``) and the GPU check
(``tools/analysis_tools/gpu_check.sh``) both run them.

The batch is what each task's dataloader yields (uint8 images and data samples), so the model's
own ``data_preprocessor`` and ``train_step`` run as under the Runner. Precisions: 'fp32'
(``OptimWrapper``), 'bf16-cpu' (``CpuBf16OptimWrapper``), 'fp16' and 'bf16' (mmengine's
``AmpOptimWrapper``, CUDA only; fp16 with a dynamic loss scale).

Usage: ``python -m pvtv2_dense.benchmark.train_steps [--device cuda] [--precisions fp32 fp16]``
prints one Markdown row per task and precision.
"""

import argparse
import copy
import math
import os.path as osp
import time

import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
QUICKSTART = {
    'segformer': 'segformer_pvtv2-b0_1xb8-600iter_synthetic-ade-64x64.py',
    'glpn': 'glpn_pvtv2-b0_1xb8-1000iter_synthetic-nyu-64x64.py',
    'deformable_detr': 'deformable-detr-refine_pvtv2-b0_1xb8-600iter_synthetic-coco-64x64.py',
    'panoptic': 'panoptic-segformer_pvtv2-b0_1xb8-800iter_synthetic-coco-panoptic-64x64.py',
    'classifier': 'pvtv2-b0_1xb32-12e_synthetic-in1k-64x64.py',
}
WRAPPERS = {
    'fp32': dict(type='OptimWrapper'),
    'bf16-cpu': dict(type='CpuBf16OptimWrapper'),
    'fp16': dict(type='AmpOptimWrapper', dtype='float16', loss_scale='dynamic'),
    'bf16': dict(type='AmpOptimWrapper', dtype='bfloat16'),
}
SIZE = 64


def quickstart_config(task):
    """The task's quickstart config, with its default scope made current."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    import pvtv2_dense  # noqa: F401  (registers the models)

    cfg = Config.fromfile(osp.join(ROOT, 'configs/quickstart', QUICKSTART[task]))
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    return cfg


def _meta():
    shape = (SIZE, SIZE)
    return dict(
        img_shape=shape,
        ori_shape=shape,
        pad_shape=shape,
        scale_factor=(1.0, 1.0),
        flip=False,
        flip_direction=None,
    )


def synthetic_batch(task, cfg, n=2, seed=0):
    """A training batch of ``n`` random SIZE x SIZE images with seeded random ground truth."""
    from mmengine.structures import BaseDataElement, PixelData

    g = torch.Generator().manual_seed(seed)
    images = [
        torch.randint(0, 256, (3, SIZE, SIZE), generator=g, dtype=torch.uint8) for _ in range(n)
    ]
    samples = []
    for _ in range(n):
        if task in ('segformer', 'glpn'):
            from mmseg.structures import SegDataSample

            sample = SegDataSample(metainfo=_meta())
            if task == 'segformer':
                num = cfg.model.decode_head.num_classes
                label = torch.randint(0, num, (1, SIZE, SIZE), generator=g)
                sample.gt_sem_seg = PixelData(data=label)
            else:
                depth = 0.5 + 9 * torch.rand(1, SIZE, SIZE, generator=g)
                sample.gt_depth_map = PixelData(data=depth)
        elif task == 'classifier':
            sample = BaseDataElement(metainfo=_meta())
            sample.gt_label = torch.randint(0, cfg.model.num_classes, (1,), generator=g)
        else:
            sample = _det_sample(task == 'panoptic', cfg, g)
        samples.append(sample)
    return dict(inputs=images, data_samples=samples)


def _det_sample(panoptic, cfg, g, num_gt=3):
    from mmdet.structures import DetDataSample
    from mmdet.structures.mask import BitmapMasks
    from mmengine.structures import InstanceData, PixelData

    sample = DetDataSample(metainfo=_meta())
    head = cfg.model.bbox_head
    things = head.get('num_things_classes', head.get('num_classes'))
    x0y0 = torch.randint(0, SIZE // 2, (num_gt, 2), generator=g)
    x1y1 = x0y0 + torch.randint(8, SIZE // 2, (num_gt, 2), generator=g)
    boxes = torch.cat([x0y0, x1y1], 1).float()
    labels = torch.randint(0, things, (num_gt,), generator=g)
    sample.gt_instances = InstanceData(bboxes=boxes, labels=labels)
    if panoptic:  # two stuff bands, the things' box-shaped masks on top
        sem = torch.full((SIZE, SIZE), things, dtype=torch.long)
        sem[SIZE // 2 :] = things + 1
        masks = torch.zeros(num_gt, SIZE, SIZE, dtype=torch.uint8)
        for k, (x0, y0, x1, y1) in enumerate(boxes.long().tolist()):
            masks[k, y0:y1, x0:x1] = 1
            sem[masks[k].bool()] = labels[k]
        sample.gt_instances.masks = BitmapMasks(masks.numpy(), SIZE, SIZE)
        sample.gt_sem_seg = PixelData(sem_seg=sem[None])
    return sample


def train_steps(task, precision='fp32', device='cpu', steps=3, lr=1e-3):
    """``steps`` training steps of the task's quickstart model (seeded weights, batch and random
    draws) with the optim wrapper of ``precision``.

    Returns:
        dict: ``losses`` (one float per step), ``autocast`` (whether the backbone's forward ran
        under autocast, and its output dtype, first step), ``finite`` (every weight finite
        after the steps), ``seconds`` (of the last step).
    """
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import MODELS

    cfg = quickstart_config(task)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.to(device)
    wrapper = dict(WRAPPERS[precision], optimizer=dict(type='AdamW', lr=lr, weight_decay=1e-4))
    optim = build_optim_wrapper(model, wrapper)
    batch, seen = synthetic_batch(task, cfg), []
    kind = torch.device(device).type
    model.backbone.register_forward_hook(
        lambda m, i, out: seen.append((torch.is_autocast_enabled(kind), out[-1].dtype))
    )
    losses = []
    for step in range(steps):
        torch.manual_seed(100 + step)  # the same dropout / drop-path draws in every precision
        start = time.perf_counter()
        log_vars = model.train_step(copy.deepcopy(batch), optim)
        losses.append(float(log_vars['loss'].detach()))
        if kind == 'cuda':
            torch.cuda.synchronize()
        seconds = time.perf_counter() - start
    finite = all(bool(torch.isfinite(p).all()) for p in model.parameters())
    return dict(losses=losses, autocast=seen[0], finite=finite, seconds=seconds)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--tasks', nargs='+', default=list(QUICKSTART), choices=list(QUICKSTART))
    parser.add_argument('--precisions', nargs='+', default=['fp32'], choices=list(WRAPPERS))
    parser.add_argument('--steps', type=int, default=1)
    args = parser.parse_args(argv)
    print('| task | precision | losses | autocast | finite | last step ms | vs fp32 |')
    print('|---|---|---|---|---|---|---|')
    failed = False
    for task in args.tasks:
        ref = None
        for precision in args.precisions:
            try:
                r = train_steps(task, precision, args.device, args.steps)
            except Exception as err:  # one row per failure, then the next
                print(f'| {task} | {precision} | {type(err).__name__}: {err} | | | | |'[:200])
                failed = True
                continue
            ok = r['finite'] and all(math.isfinite(v) for v in r['losses'])
            failed |= not ok
            ref = r['losses'] if precision == 'fp32' else ref
            rel = '' if ref is None else f'{abs(r["losses"][-1] / ref[-1] - 1):.2%}'
            losses = ' '.join(f'{v:.4f}' for v in r['losses'])
            print(
                f'| {task} | {precision} | {losses} | {r["autocast"][0]} {r["autocast"][1]} | '
                f'{ok} | {1000 * r["seconds"]:.0f} | {rel} |',
                flush=True,
            )
    return 1 if failed else 0


if __name__ == '__main__':
    raise SystemExit(main())
