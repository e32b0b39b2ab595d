"""Parameters and FLOPs of any config's model (segmentation, depth, detection, classification).

Counted by :func:`pvtv2_dense.benchmark.complexity.complexity` with mmengine's analysis tools
(fvcore's counting: one multiply-add is one FLOP, the convention of the SegFormer and PVT
papers), with fused scaled-dot-product attention counted as its two matrix products. No weights
are loaded.

Examples:
    python tools/analysis_tools/get_flops.py \
        configs/segformer/segformer_pvtv2-b0_8xb2-160k_ade20k-512x512.py
    python tools/analysis_tools/get_flops.py CONFIG --shape 512 1024 --table
    python tools/analysis_tools/get_flops.py CONFIG --json out.json
"""

import argparse
import json
import os.path as osp

from pvtv2_dense.benchmark.complexity import complexity
from pvtv2_dense.cli import (
    CLIError,
    ToolParser,
    atomic_output,
    cli_entry,
    load_config,
    refuse_overwrite,
)


@cli_entry
def main(argv=None):
    parser = ToolParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='config file')
    parser.add_argument(
        '--shape', type=int, nargs='+', default=[512, 512], help='input H W (or one size)'
    )
    parser.add_argument('--table', action='store_true', help='print the per-module table')
    parser.add_argument('--json', help='also write {"params", "flops"} to this file')
    parser.add_argument('--overwrite', action='store_true', help='write over an existing --json')
    parser.add_cfg_options()
    args = parser.parse_args(argv)
    if len(args.shape) not in (1, 2) or min(args.shape) < 1:
        raise CLIError(f'--shape takes H W or one size, got {args.shape}')
    shape = tuple(args.shape * 2 if len(args.shape) == 1 else args.shape)
    refuse_overwrite(args.json, '--json', args.overwrite)
    cfg = load_config(args.config, args.cfg_options)
    params, flops, table = complexity(cfg, shape)
    if args.table:
        print(table)
    print(f'{osp.basename(args.config)}  input 3x{shape[0]}x{shape[1]}')
    print(f'params: {params / 1e6:.2f} M   FLOPs: {flops / 1e9:.2f} G')
    if args.json:
        with atomic_output(args.json) as tmp, open(tmp, 'w') as f:
            json.dump(dict(config=args.config, shape=shape, params=params, flops=flops), f)


if __name__ == '__main__':
    main()
