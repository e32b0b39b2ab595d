"""Benchmark our PVTv2 backbone against HF transformers, mmdet and timm with identical weights.

Each measurement runs in a fresh process: the table gives the median forward latency (warm-up
excluded), each peer's latency over ours, and the peak memory the forward pass adds on top of the
loaded model (CPU: resident-set peak; GPU: max allocated). Weights come from one seeded HF model,
converted into each implementation's format. Peers that are not installed show as n/a.

Examples:
    python tools/analysis_tools/benchmark_backbone.py                    # b0,b2 x 224,512 x 1,8
    python tools/analysis_tools/benchmark_backbone.py --archs b2-li --sizes 1024 --batches 1
    python tools/analysis_tools/benchmark_backbone.py --device cuda --repeat 50
"""

import argparse
import platform

from pvtv2_dense.benchmark.backbones import IMPLS, measure_in_subprocess
from pvtv2_dense.cli import ToolParser, cli_entry
from pvtv2_dense.models.backbones import ARCH_SETTINGS


@cli_entry
def main(argv=None):
    parser = ToolParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--archs', nargs='+', default=['b0', 'b2'], choices=sorted(ARCH_SETTINGS))
    parser.add_argument('--sizes', nargs='+', type=int, default=[224, 512])
    parser.add_argument('--batches', nargs='+', type=int, default=[1, 8])
    parser.add_argument('--impls', nargs='+', default=list(IMPLS), choices=IMPLS)
    parser.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    parser.add_argument('--repeat', type=int, default=10, help='timed runs per measurement')
    args = parser.parse_args(argv)

    import torch

    card = torch.cuda.get_device_name() if args.device == 'cuda' else platform.processor()
    print(
        f'# PVTv2 backbone, fp32 {args.device} ({card or platform.machine()}), '
        f'{torch.get_num_threads()} threads, torch {torch.__version__}'
    )
    print('| arch | input | batch | impl | median ms | peer/ours | peak MB |')
    print('|---|---|---|---|---|---|---|')
    for arch in args.archs:
        for size in args.sizes:
            for batch in args.batches:
                rows = {
                    impl: measure_in_subprocess(impl, arch, size, batch, args.device, args.repeat)
                    for impl in args.impls
                }
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
