"""CPU speed table: ONNX Runtime float32 and INT8 (dynamic; static, calibrated on the config's
validation images) against our PyTorch model, median of paired, interleaved runs.

Exports CONFIG + CKPT to WORK_DIR/fp32.onnx (static, --shape), quantizes it both ways, times
the four backends on one (1, 3, H, W) input and prints a markdown table: median milliseconds,
median per-round speed-up over PyTorch, and how far each backend's output is from PyTorch's
(segmentation: pixels with the same label; depth: AbsRel; classification: same top-1).
Detectors are timed on their boxes output (max |diff|).

Example:
    python tools/deployment/benchmark_onnx.py CONFIG CKPT --shape 512 512 --calib 8 \\
        --cfg-options val_dataloader.dataset.data_root=data/synthetic/ade20k
"""

import argparse
import os.path as osp
import sys

from pvtv2_dense.cli import ToolParser, cli_entry, load_config


def parse_args(argv=None):
    parser = ToolParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint that fits the config')
    parser.add_argument('--shape', nargs=2, type=int, default=(512, 512), metavar=('H', 'W'))
    parser.add_argument('--work-dir', default='work_dirs/onnx_bench', help='graphs go here')
    parser.add_argument('--calib', type=int, default=8, help='validation images to calibrate on')
    parser.add_argument('--rounds', type=int, default=10, help='timed rounds')
    parser.add_argument('--threads', type=int, help='ONNX Runtime intra-op threads')
    parser.add_cfg_options()
    return parser.parse_args(argv)


@cli_entry
def main(argv=None):
    args = parse_args(argv)
    from pvtv2_dense.apis import build_model
    from pvtv2_dense.deploy.onnx import export_onnx
    from pvtv2_dense.deploy.ort_bench import speed_table
    from pvtv2_dense.deploy.plain import build_plain_model
    from pvtv2_dense.deploy.quantize import calibration_inputs, quantize_onnx

    cfg = load_config(args.config, args.cfg_options)
    shape = tuple(args.shape)
    fp32 = osp.join(args.work_dir, 'fp32.onnx')
    export_onnx(build_plain_model(cfg, args.checkpoint, args.config), fp32, shape)
    graphs = {'ORT fp32': fp32, 'ORT INT8 dynamic': osp.join(args.work_dir, 'int8-dynamic.onnx')}
    quantize_onnx(fp32, graphs['ORT INT8 dynamic'], 'dynamic')
    if args.calib:
        graphs['ORT INT8 static'] = osp.join(args.work_dir, 'int8-static.onnx')
        calib = calibration_inputs(cfg, args.calib, shape)
        quantize_onnx(fp32, graphs['ORT INT8 static'], 'static', calib)
    model = build_model(cfg, args.checkpoint, config_path=args.config)
    task, rows = speed_table(model, graphs, shape, args.rounds, args.threads)
    print(f'{task} {shape[0]}x{shape[1]}, median of {args.rounds} paired rounds')
    print('| backend | ms | speed-up vs PyTorch | agreement with PyTorch |')
    print('|---|---|---|---|')
    for name, ms, ratio, measure, value in rows:
        print(f'| {name} | {ms:.1f} | {ratio:.2f}x | {measure}: {value:.4g} |')
    return 0


if __name__ == '__main__':
    sys.exit(main())
