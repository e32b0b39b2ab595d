"""Roofline report of the PVTv2 backbone: this machine's fp32 matrix-multiply rate (the roof),
each part's multiply-adds (attention, FFN, depth-wise conv, norms, patch embeddings, the rest),
its time in the timed forward and its achieved fraction of the roof (see
pvtv2_dense.benchmark.roofline). Multiply-adds are counted on the plain definition, the time on
the shipped fast implementations unless --impls says otherwise.

Examples:
    python tools/analysis_tools/roofline.py                      # b0 and b2 at 512x512
    python tools/analysis_tools/roofline.py --archs b2 --repeat 10
    python tools/analysis_tools/roofline.py --impls sdpa plain   # time the plain definition
"""

import argparse

from pvtv2_dense.benchmark.roofline import MATMUL_SIZES, format_rows, matmul_rate, roofline
from pvtv2_dense.cli import CLIError, ToolParser, cli_entry
from pvtv2_dense.models.backbones import ARCH_SETTINGS


@cli_entry
def main(argv=None):
    parser = ToolParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--archs', nargs='+', default=['b0', 'b2'], choices=sorted(ARCH_SETTINGS))
    parser.add_argument('--size', type=int, default=512)
    parser.add_argument('--repeat', type=int, default=5)
    parser.add_argument(
        '--impls', nargs=2, default=['auto', 'auto'], metavar=('ATTN', 'FFN'),
        help="the timed backbone's attn_impl and ffn_impl (PVTv2 refuses unknown names)",
    )  # fmt: skip
    parser.add_argument('--matmul-sizes', type=int, nargs='+', default=list(MATMUL_SIZES))
    args = parser.parse_args(argv)
    if args.size < 32 or args.repeat < 1 or min(args.matmul_sizes) < 1:
        raise CLIError('--size takes at least 32, --repeat and --matmul-sizes at least 1')

    import torch

    roof = matmul_rate(args.matmul_sizes)
    sizes = ', '.join(f'{n}: {r / 1e9:.1f}' for n, r in roof['by_size'].items())
    print(
        f'# fp32 cpu, {torch.get_num_threads()} threads; matmul GMAC/s by size {sizes}; '
        f'roof {roof["best"] / 1e9:.1f} GMAC/s; timed attn_impl={args.impls[0]!r} '
        f'ffn_impl={args.impls[1]!r}, best of {args.repeat} forwards'
    )
    print('| arch | input | part | GMAC | ms | share of time | GMAC/s | of roof |')
    print('|---|---|---|---|---|---|---|---|')
    for arch in args.archs:
        rows = roofline(arch, args.size, tuple(args.impls), args.repeat, roof['best'])
        print('\n'.join(format_rows(arch, args.size, rows)), flush=True)


if __name__ == '__main__':
    main()
