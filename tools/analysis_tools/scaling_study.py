"""Latency and peak memory of PVTv2 b2 (SRA) and b2-li (linear SRA) as the input grows.

Writes a Markdown table and a log-log plot: with linear SRA the attention cost is linear in the
number of pixels, so b2-li's curve keeps slope 1 while b2's bends upward (its stage-1 attention
is quadratic with a 64x smaller key set). HF's PvtV2Model can be measured beside ours.

Examples:
    python tools/analysis_tools/scaling_study.py --out-dir docs
    python tools/analysis_tools/scaling_study.py --sizes 256 512 1024 --impls ours hf
"""

import argparse
import os
import os.path as osp

from pvtv2_dense.benchmark.backbones import measure_in_subprocess
from pvtv2_dense.cli import ToolParser, atomic_output, cli_entry, refuse_overwrite
from pvtv2_dense.models.backbones import ARCH_SETTINGS


@cli_entry
def main(argv=None):
    parser = ToolParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        '--archs', nargs='+', default=['b2', 'b2-li'], choices=sorted(ARCH_SETTINGS)
    )
    parser.add_argument('--sizes', nargs='+', type=int, default=[256, 512, 1024, 1536, 2048])
    parser.add_argument('--impls', nargs='+', default=['ours'], choices=['ours', 'hf'])
    parser.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    parser.add_argument('--repeat', type=int, default=3)
    parser.add_argument('--out-dir', default='docs')
    parser.add_argument(
        '--overwrite', action='store_true', help='write over scaling.md/.png in --out-dir'
    )
    args = parser.parse_args(argv)
    table, plot = (osp.join(args.out_dir, f'scaling.{ext}') for ext in ('md', 'png'))
    for path in (table, plot):  # before the minutes of measuring
        refuse_overwrite(path, '--out-dir file', args.overwrite)
    os.makedirs(args.out_dir, exist_ok=True)

    rows = []
    lines = [
        '| arch | impl | input | Mpixels | median ms | ms / Mpixel | peak MB |',
        '|---' * 7 + '|',
    ]
    for arch in args.archs:
        for impl in args.impls:
            for size in args.sizes:
                r = measure_in_subprocess(impl, arch, size, 1, args.device, args.repeat, 1)
                if 'error' in r:
                    print(f'{arch} {impl} {size}: {r["error"]}')
                    continue
                mpix = size * size / 1e6
                rows.append((arch, impl, size, mpix, r['median_ms'], r['peak_mb']))
                lines.append(
                    f'| {arch} | {impl} | {size}x{size} | {mpix:.2f} | {r["median_ms"]:.0f} | '
                    f'{r["median_ms"] / mpix:.0f} | {r["peak_mb"]:.0f} |'
                )
                print(lines[-1], flush=True)
    with atomic_output(table) as tmp, open(tmp, 'w') as f:
        f.write(f'# PVTv2 scaling, batch 1, fp32 {args.device}\n\n' + '\n'.join(lines) + '\n')

    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, (ax_t, ax_m) = plt.subplots(1, 2, figsize=(11, 4))
    for arch in args.archs:
        for impl in args.impls:
            pts = [(r[3], r[4], r[5]) for r in rows if r[0] == arch and r[1] == impl]
            if not pts:
                continue
            mpix, ms, mb = zip(*pts)
            ax_t.loglog(mpix, ms, 'o-', label=f'{arch} ({impl})')
            ax_m.loglog(mpix, mb, 'o-', label=f'{arch} ({impl})')
    if rows:
        m0, t0 = rows[0][3], rows[0][4]
        xs = [r[3] for r in rows if r[0] == rows[0][0] and r[1] == rows[0][1]]
        ax_t.loglog(xs, [t0 * x / m0 for x in xs], 'k:', label='linear in pixels')
    ax_t.set(xlabel='megapixels', ylabel='latency (ms)', title='latency, batch 1')
    ax_m.set(xlabel='megapixels', ylabel='peak memory (MB)', title='peak memory above model')
    ax_t.legend()
    ax_m.legend()
    fig.tight_layout()
    with atomic_output(plot) as tmp:
        fig.savefig(tmp, dpi=100)
    print(f'wrote {table} and {plot}')


if __name__ == '__main__':
    main()
