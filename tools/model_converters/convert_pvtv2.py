"""Convert a PVTv2 checkpoint between formats (the input format is detected from its keys).

Inputs: official PVT / SegFormer MiT, HF PvtV2 / Segformer / GLPN encoders, timm pvt_v2, mmdet
PyramidVisionTransformerV2, or ours; .pth, .bin or .safetensors.

Examples:
    python tools/model_converters/convert_pvtv2.py pvt_v2_b2.pth pvtv2_b2_ours.pth
    python tools/model_converters/convert_pvtv2.py model.safetensors b0.pth --prefix backbone.
    python tools/model_converters/convert_pvtv2.py ours.pth official.pth --to official
"""

import argparse
import os.path as osp
import sys

import torch

from pvtv2_dense.checkpoint import (
    describe,
    norm_eps_hint,
    read_state_dict,
    to_official,
    to_pvtv2_dense,
)


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument('src', help='input checkpoint')
    parser.add_argument('dst', help='output .pth (refuses to overwrite unless --force)')
    parser.add_argument(
        '--to', choices=['pvtv2_dense', 'official'], default='pvtv2_dense', help='output format'
    )
    parser.add_argument(
        '--prefix', default='', help="prefix added to every output key (e.g. 'backbone.')"
    )
    parser.add_argument('--force', action='store_true', help='overwrite dst if it exists')
    args = parser.parse_args()
    if osp.exists(args.dst) and not args.force:
        sys.exit(f'error: {args.dst} exists; pass --force to overwrite it')
    try:
        ours, fmt, ignored = to_pvtv2_dense(read_state_dict(args.src))
    except (OSError, ValueError) as err:
        sys.exit(f'error: {args.src}: {err}')
    out = to_official(ours) if args.to == 'official' else ours
    out = {args.prefix + k: v.contiguous() for k, v in out.items()}
    torch.save({'state_dict': out, 'meta': {'source': osp.basename(args.src), 'format': fmt}},
               args.dst)  # fmt: skip
    print(f'{args.src}: {fmt} format, {describe(ours)}')
    if norm_eps_hint(fmt):
        print(f'LayerNorm eps: {norm_eps_hint(fmt)}')
    print(f'wrote {len(out)} tensors to {args.dst} ({args.to}); left out {len(ignored)} keys')


if __name__ == '__main__':
    main()
