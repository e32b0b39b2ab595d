"""The multi-scale deformable attention kernels alone, paired: the lean kernel against mmcv's
(its CUDA kernel on a GPU, its PyTorch path on the CPU), on the encoder's shapes of Deformable
DETR and Panoptic SegFormer at a given input size (4 levels at strides 8-64, 8 heads of 32
channels, 4 points, every token a query).

Usage: ``python -m pvtv2_dense.benchmark.msda [--device cuda] [--size 640] [--repeat 10]``
prints one Markdown row per kernel and mode (forward; forward + backward), with the median
time, mmcv's time over the lean kernel's (paired runs) and, on a GPU, the peak memory.
"""

import argparse
import math
import statistics
import time

import torch

STRIDES = (8, 16, 32, 64)


def encoder_inputs(size, device, batch=1, heads=8, dims=32, points=4, seed=0):
    """Random kernel inputs of the deformable encoder on a ``size`` x ``size`` image."""
    shapes = torch.tensor([[math.ceil(size / s)] * 2 for s in STRIDES], device=device)
    keys, levels = int(shapes.prod(1).sum()), len(STRIDES)
    g = torch.Generator().manual_seed(seed)
    value = torch.randn(batch, keys, heads, dims, generator=g)
    loc = torch.rand(batch, keys, heads, levels, points, 2, generator=g)
    weights = torch.rand(batch, keys, heads, levels, points, generator=g).softmax(-1)
    tensors = [t.to(device).requires_grad_() for t in (value, loc, weights)]
    return shapes, tensors


def kernels(device):
    """{name: kernel(value, shapes, locations, weights)} for ``device``: 'lean' and 'mmcv'."""
    from mmcv.ops.multi_scale_deform_attn import (
        MultiScaleDeformableAttnFunction,
        multi_scale_deformable_attn_pytorch,
    )

    from ..models.layers import lean_msda

    def mmcv_cuda(value, shapes, loc, weights):
        start = torch.cat([shapes.new_zeros(1), shapes.prod(1).cumsum(0)[:-1]])
        return MultiScaleDeformableAttnFunction.apply(value, shapes, start, loc, weights, 64)

    mmcv = mmcv_cuda if str(device).startswith('cuda') else multi_scale_deformable_attn_pytorch
    return {'lean': lean_msda, 'mmcv': mmcv}


def time_kernels(size=640, device='cpu', repeat=10, warmup=2):
    """Per kernel and mode ('forward', 'train': forward + backward), the run times (s), paired:
    every iteration runs each kernel once, in reverse order every other iteration; on CUDA also
    the peak memory above the inputs (MB)."""
    shapes, (value, loc, weights) = encoder_inputs(size, device)
    cuda = str(device).startswith('cuda')
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    by_name = kernels(device)
    results = {(name, mode): dict(times=[]) for mode in ('forward', 'train') for name in by_name}

    def run(name, mode):
        if mode == 'forward':
            with torch.no_grad():
                by_name[name](value, shapes, loc, weights)
        else:
            by_name[name](value, shapes, loc, weights).sum().backward()

    for mode in ('forward', 'train'):
        names = list(by_name)
        for _ in range(warmup):
            for name in names:
                run(name, mode)
        for i in range(repeat):
            for name in names if i % 2 == 0 else names[::-1]:
                if cuda:
                    torch.cuda.reset_peak_memory_stats()
                    base = torch.cuda.memory_allocated()
                sync()
                start = time.perf_counter()
                run(name, mode)
                sync()
                results[(name, mode)]['times'].append(time.perf_counter() - start)
                if cuda:
                    peak = (torch.cuda.max_memory_allocated() - base) / 2**20
                    results[(name, mode)]['peak_mb'] = peak
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--size', type=int, default=640)
    parser.add_argument('--repeat', type=int, default=10)
    args = parser.parse_args(argv)
    card = torch.cuda.get_device_name() if args.device.startswith('cuda') else 'cpu'
    print(f'# msda kernels, fp32 {args.device} ({card}), encoder at {args.size}, paired runs')
    print('| kernel | mode | median ms | mmcv/lean | peak MB |')
    print('|---|---|---|---|---|')
    results = time_kernels(args.size, args.device, args.repeat)
    for (name, mode), r in results.items():
        lean = results[('lean', mode)]['times']
        ratio = statistics.median(a / b for a, b in zip(results[('mmcv', mode)]['times'], lean))
        peak = f'{r["peak_mb"]:.0f}' if 'peak_mb' in r else ''
        shown = f'{ratio:.2f}x' if name == 'lean' else '1.00x'
        median = 1000 * statistics.median(r['times'])
        print(f'| {name} | {mode} | {median:.1f} | {shown} | {peak} |', flush=True)


if __name__ == '__main__':
    main()
