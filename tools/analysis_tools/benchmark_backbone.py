"""Benchmark our PVTv2 backbone against HF transformers, mmdet and timm with identical weights.

Each measurement runs in a fresh process so that peak memory is that model's alone: the table
gives the median forward latency (warm-up excluded), the ratio of each peer's latency to ours, and
the peak memory the forward pass added on top of the loaded model (CPU: resident-set peak; GPU:
``torch.cuda.max_memory_allocated``). Weights come from one seeded HF model, converted to each
implementation's format.

Examples:
    python tools/analysis_tools/benchmark_backbone.py                       # b0,b2 x 224,512 x 1,8
    python tools/analysis_tools/benchmark_backbone.py --archs b2-li --sizes 1024 --batches 1
    python tools/analysis_tools/benchmark_backbone.py --device cuda --repeat 50
"""

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import time

IMPLS = ('ours', 'hf', 'mmdet', 'timm')


def _rss_mb():
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def _build(impl, arch):
    """Build ``impl`` with the weights of a seeded HF PvtV2Model of ``arch``."""
    import torch
    from transformers import PvtV2Config, PvtV2Model

    from pvtv2_dense.checkpoint import to_official, to_pvtv2_dense
    from pvtv2_dense.models import PVTv2, resolve_arch

    opts = resolve_arch(arch)
    torch.manual_seed(0)
    hf = PvtV2Model(PvtV2Config(**opts)).eval()
    if impl == 'hf':
        return hf
    ours_sd = to_pvtv2_dense(hf.state_dict())[0]
    if impl == 'ours':
        model = PVTv2(arch)
        model.load_state_dict(ours_sd)
        return model.eval()
    if impl == 'mmdet':
        from mmdet.models.backbones.pvt import PyramidVisionTransformerV2, pvt_convert

        if opts['linear_attention']:
            raise RuntimeError('mmdet has no linear SRA')
        model = PyramidVisionTransformerV2(
            embed_dims=opts['hidden_sizes'][0] // opts['num_attention_heads'][0],
            num_layers=opts['depths'],
            num_heads=opts['num_attention_heads'],
            mlp_ratios=opts['mlp_ratios'],
            qkv_bias=True,
            norm_cfg=dict(type='LN', eps=1e-6),
        )
        model.load_state_dict(pvt_convert(to_official(ours_sd)))
        return model.eval()
    if impl == 'timm':
        import timm  # needs torchvision, which does not import beside every torch build

        name = 'pvt_v2_' + arch.replace('-', '_')
        model = timm.create_model(name, pretrained=False)
        official = to_official(ours_sd)
        model.load_state_dict(
            timm.models.pvt_v2.checkpoint_filter_fn(official, model), strict=False
        )
        return model.eval()
    raise ValueError(impl)


def measure(impl, arch, size, batch, device, repeat):
    """One measurement, in this process: dict(median_ms, peak_mb) or dict(error)."""
    import torch

    torch.set_grad_enabled(False)
    try:
        model = _build(impl, arch).to(device)
    except Exception as err:  # a peer missing or unable to run this arch
        return dict(error=f'{type(err).__name__}: {err}'.splitlines()[0][:80])
    x = torch.randn(batch, 3, size, size, device=device)
    call = model.forward_features if impl == 'timm' else model
    sync = torch.cuda.synchronize if device == 'cuda' else (lambda: None)
    for _ in range(2):
        call(x)
    sync()
    if device == 'cuda':
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    else:
        base = _rss_mb()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call(x)
        sync()
        times.append(time.perf_counter() - start)
    if device == 'cuda':
        peak = (torch.cuda.max_memory_allocated() - base) / 2**20
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - base
    return dict(median_ms=1000 * statistics.median(times), peak_mb=max(peak, 0.0))


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument('--archs', nargs='+', default=['b0', 'b2'])
    parser.add_argument('--sizes', nargs='+', type=int, default=[224, 512])
    parser.add_argument('--batches', nargs='+', type=int, default=[1, 8])
    parser.add_argument('--impls', nargs='+', default=list(IMPLS), choices=IMPLS)
    parser.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    parser.add_argument('--repeat', type=int, default=10, help='timed runs per measurement')
    parser.add_argument('--child', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(*json.loads(args.child))))
        return

    import torch

    card = torch.cuda.get_device_name() if args.device == 'cuda' else platform.processor()
    print(f'# PVTv2 backbone, fp32 {args.device} ({card or platform.machine()}), '
          f'{torch.get_num_threads()} threads, torch {torch.__version__}')  # fmt: skip
    print('| arch | input | batch | impl | median ms | peer/ours | peak MB |')
    print('|---|---|---|---|---|---|---|')
    for arch in args.archs:
        for size in args.sizes:
            for batch in args.batches:
                rows = {}
                for impl in args.impls:
                    job = json.dumps([impl, arch, size, batch, args.device, args.repeat])
                    proc = subprocess.run(
                        [sys.executable, __file__, '--child', job], capture_output=True, text=True
                    )
                    lines = proc.stdout.strip().splitlines()
                    rows[impl] = (
                        json.loads(lines[-1])
                        if proc.returncode == 0 and lines
                        else dict(error=(proc.stderr.strip().splitlines() or ['failed'])[-1][:80])
                    )
                ours = rows.get('ours', {}).get('median_ms')
                for impl, r in rows.items():
                    if 'error' in r:
                        print(f'| {arch} | {size} | {batch} | {impl} | n/a | | {r["error"]} |')
                        continue
                    ratio = f'{r["median_ms"] / ours:.2f}x' if ours else ''
                    print(
                        f'| {arch} | {size} | {batch} | {impl} | {r["median_ms"]:.1f} | {ratio} '
                        f'| {r["peak_mb"]:.0f} |',
                        flush=True,
                    )


if __name__ == '__main__':
    main()
