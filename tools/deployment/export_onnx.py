"""Export a trained model to ONNX, and check the file in ONNX Runtime against PyTorch.

The graph takes the preprocessed batch (N, 3, H, W) float32 (after the config's
data_preprocessor: BGR->RGB, mean/std) and computes model(inputs, mode='tensor'): segmentation
logits at 1/4 of the input size, depth maps at the input size, or class logits. Deformable DETR
(plain, refine, two-stage) exports with its post-processing: outputs boxes (N, K, 4; x1 y1 x2 y2
in input pixels), scores (N, K) and labels (N, K), K = test_cfg.max_per_img; its deformable
attention runs through GridSample (opset >= 16). Models are exported from the plain definitions
(attn_impl='sdpa', ffn_impl='plain', AllMLPHead): same weights and results as the shipped
speed-ups. RetinaNet, ATSS, GFL, Mask R-CNN, Sparse R-CNN and Panoptic SegFormer are refused in
one line naming the model and the reason, before the checkpoint is read.

Examples:
    python tools/deployment/export_onnx.py CONFIG CKPT --out model.onnx --verify
    python tools/deployment/export_onnx.py CONFIG CKPT --out model.onnx --dynamic --verify
    python tools/deployment/export_onnx.py CONFIG CKPT --out model.onnx --shape 480 640

--dynamic gives symbolic N, H and W (linear SRA included); the smallest H and W the graph
serves is printed and kept in the file's metadata (min_height, min_width). --verify runs the
file in ONNX Runtime at the export size and, for a dynamic graph, at an odd size with batch 2,
and fails (exit 1) when an output differs from PyTorch's by more than --tolerance (detectors:
every detection has a counterpart in mmdet's own predict with the same label, its score within
--tolerance and its box within --tolerance x the longer input side).
Needs requirements/deploy.txt (onnx, onnxruntime).
"""

import argparse
import sys

from pvtv2_dense.cli import CLIError, ToolParser, cli_entry, load_config, refuse_overwrite
from pvtv2_dense.deploy.outputs import check_writable
from pvtv2_dense.errors import ExportError


def parse_args(argv=None):
    parser = ToolParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint that fits the config')
    parser.add_argument('--out', required=True, help='output .onnx file')
    parser.add_argument(
        '--shape',
        nargs=2,
        type=int,
        default=(512, 512),
        metavar=('H', 'W'),
        help='input height and width (default: 512 512)',
    )
    parser.add_argument('--dynamic', action='store_true', help='symbolic batch, height, width')
    parser.add_argument('--verify', action='store_true', help='check in ONNX Runtime')
    parser.add_argument('--tolerance', type=float, default=1e-4, help='for --verify')
    parser.add_argument('--opset', type=int, default=18, help='ONNX opset (default: 18)')
    parser.add_argument('--overwrite', action='store_true', help='write over an existing --out')
    parser.add_cfg_options()
    return parser.parse_args(argv)


@cli_entry
def main(argv=None):
    args = parse_args(argv)
    if min(args.shape) < 1:
        raise CLIError(f'--shape {args.shape[0]} {args.shape[1]}: expected positive H and W')
    refuse_overwrite(args.out, '--out', args.overwrite)
    check_writable(args.out, '--out')
    from pvtv2_dense.deploy import onnx as deploy_onnx
    from pvtv2_dense.deploy.onnx_det import check_config
    from pvtv2_dense.deploy.plain import build_plain_model

    deploy_onnx.require_onnx(runtime=args.verify)
    cfg = load_config(args.config, args.cfg_options)
    check_config(cfg)
    model = build_plain_model(cfg, args.checkpoint, args.config)
    shape = tuple(args.shape)
    info = deploy_onnx.export_onnx(model, args.out, shape, args.dynamic, args.opset)
    print(f'wrote {args.out}: input {info["input_shape"]} float32 -> {", ".join(info["outputs"])}')
    if args.dynamic:
        print(f'  dynamic H >= {info["min_size"][0]}, W >= {info["min_size"][1]}')
    if args.verify:
        sizes = deploy_onnx.verify_sizes(shape, args.dynamic)
        try:
            results = deploy_onnx.verify_onnx(args.out, model, sizes, args.tolerance)
        except ExportError as err:
            print(f'verify failed: {err}', file=sys.stderr)
            return 1
        for input_shape, diff in results:
            print(f'  verified {input_shape}: max |onnxruntime - torch| = {diff:.2e}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
