"""Quantize an exported ONNX graph to INT8 with ONNX Runtime.

--mode dynamic: int8 weights, activations quantized at run time; needs no data.
--mode static: int8 weights and activations, scales calibrated on --calib preprocessed images
of CONFIG's validation set (resized to a static graph's input size); point the set elsewhere
with --cfg-options val_dataloader.dataset.data_root=...

Example:
    python tools/deployment/quantize_onnx.py CONFIG model.onnx --out model-int8.onnx \\
        --mode static --calib 32
"""

import argparse
import sys

from pvtv2_dense.cli import ToolParser, cli_entry, load_config, refuse_overwrite
from pvtv2_dense.deploy.outputs import check_writable


def parse_args(argv=None):
    parser = ToolParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='the config the graph was exported from')
    parser.add_argument('onnx', help='the float32 graph (tools/deployment/export_onnx.py)')
    parser.add_argument('--out', required=True, help='the INT8 graph')
    parser.add_argument('--mode', choices=('dynamic', 'static'), default='dynamic')
    parser.add_argument('--calib', type=int, default=32, help='images to calibrate on (static)')
    parser.add_argument('--overwrite', action='store_true', help='write over an existing --out')
    parser.add_cfg_options()
    return parser.parse_args(argv)


@cli_entry
def main(argv=None):
    args = parse_args(argv)
    refuse_overwrite(args.out, '--out', args.overwrite)
    check_writable(args.out, '--out')
    from pvtv2_dense.deploy.quantize import calibration_inputs, graph_input, quantize_onnx

    calib = None
    if args.mode == 'static':
        cfg = load_config(args.config, args.cfg_options)
        calib = calibration_inputs(cfg, args.calib, graph_input(args.onnx)[1])
    quantize_onnx(args.onnx, args.out, args.mode, calib)
    print(f'wrote {args.out}: INT8 ({args.mode})')
    return 0


if __name__ == '__main__':
    sys.exit(main())
