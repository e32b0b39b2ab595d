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

from pvtv2_dense.checkpoint import (
    describe,
    norm_eps_hint,
    read_state_dict,
    to_official,
    to_pvtv2_dense,
)
from pvtv2_dense.cli import (
    CLIError,
    ToolParser,
    cli_entry,
    one_line,
    refuse_overwrite,
    save_torch_atomically,
)
from pvtv2_dense.errors import CheckpointError


@cli_entry
def main(argv=None):
    parser = ToolParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('src', help='input checkpoint')
    parser.add_argument('dst', help='output .pth (refuses to overwrite unless --overwrite)')
    parser.add_argument(
        '--to', choices=['pvtv2_dense', 'official'], default='pvtv2_dense', help='output format'
    )
    parser.add_argument(
        '--prefix', default='', help="prefix added to every output key (e.g. 'backbone.')"
    )
    parser.add_argument(
        '--overwrite',
        '--force',
        action='store_true',
        help='write over dst if it exists (refused otherwise)',
    )
    args = parser.parse_args(argv)
    refuse_overwrite(args.dst, 'dst', args.overwrite)
    state = read_state_dict(args.src)  # its errors name the file already
    try:
        ours, fmt, ignored = to_pvtv2_dense(state)
    except CheckpointError as err:  # the keys are not of the expected format
        raise CLIError(f'{args.src}: {one_line(err)}') from None
    out = to_official(ours) if args.to == 'official' else ours
    out = {args.prefix + k: v.contiguous() for k, v in out.items()}
    meta = {'source': osp.basename(args.src), 'format': fmt}
    save_torch_atomically({'state_dict': out, 'meta': meta}, args.dst)
    print(f'{args.src}: {fmt} format, {describe(ours)}')
    if norm_eps_hint(fmt):
        print(f'LayerNorm eps: {norm_eps_hint(fmt)}')
    print(f'wrote {len(out)} tensors to {args.dst} ({args.to}); left out {len(ignored)} keys')


if __name__ == '__main__':
    main()
