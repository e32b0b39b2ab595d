"""Latency, throughput and peak memory of a config's model (any task) on CPU or GPU.

Times the model's ``predict`` on a ready, normalised random batch of the given size (data loading
and the data preprocessor excluded), after warm-up iterations that are not counted. Peak memory
is measured over the timed iterations only: on GPU ``torch.cuda.max_memory_allocated``; on CPU
the process's peak resident set (VmHWM, reset after warm-up) and its rise above the resident set
before timing.

Examples:
    python tools/analysis_tools/benchmark.py CONFIG                       # 512x512, batch 1
    python tools/analysis_tools/benchmark.py CONFIG --shape 1024 2048 --device cuda --repeat 50
    python tools/analysis_tools/benchmark.py CONFIG --checkpoint CKPT --batch-size 8 --out b.json
"""

import argparse
import json
import os
import statistics
import sys

import torch

from pvtv2_dense.apis.inference import build_model, default_device
from pvtv2_dense.benchmark.dummy import dummy_batch
from pvtv2_dense.benchmark.timing import time_predict
from pvtv2_dense.cli import (
    CLIError,
    ToolParser,
    atomic_output,
    cli_entry,
    load_config,
    refuse_overwrite,
)


def parse_args(argv=None):
    parser = ToolParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='config file')
    parser.add_argument('--checkpoint', help='weights (default: the random initialisation)')
    parser.add_argument('--shape', type=int, nargs='+', default=[512, 512], help='H [W] of input')
    parser.add_argument('--batch-size', type=int, default=1)
    parser.add_argument('--device', default=None, help='cpu or cuda (default: cuda if present)')
    parser.add_argument('--warmup', type=int, default=5, help='untimed iterations first')
    parser.add_argument('--repeat', type=int, default=20, help='timed iterations')
    parser.add_argument('--threads', type=int, default=None, help='CPU threads for torch')
    parser.add_argument('--out', help='also write the results to this JSON file')
    parser.add_argument('--overwrite', action='store_true', help='write over an existing --out')
    parser.add_cfg_options()
    args = parser.parse_args(argv)
    refuse_overwrite(args.out, '--out', args.overwrite)
    if len(args.shape) == 1:
        args.shape *= 2
    if len(args.shape) != 2 or min(args.shape) < 1:
        parser.error('--shape takes H or H W (positive)')
    if args.repeat < 1 or args.warmup < 0 or args.batch_size < 1:
        parser.error('--repeat and --batch-size must be >= 1, --warmup >= 0')
    return args


@cli_entry
def main(argv=None):
    args = parse_args(argv)
    device = args.device or default_device()
    if device.startswith('cuda') and not torch.cuda.is_available():
        raise CLIError('--device cuda asked for, but torch sees no GPU')
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = load_config(args.config, args.cfg_options)
    model = build_model(cfg, args.checkpoint, device, args.config)
    height, width = args.shape
    inputs, samples = dummy_batch(cfg, args.batch_size, height, width, device)
    times, memory = time_predict(model, inputs, samples, device, args.warmup, args.repeat)
    median = statistics.median(times)
    result = dict(
        config=args.config,
        device=torch.cuda.get_device_name() if device.startswith('cuda') else 'cpu',
        threads=torch.get_num_threads(),
        shape=[args.batch_size, 3, height, width],
        params_m=sum(p.numel() for p in model.parameters()) / 1e6,
        warmup=args.warmup,
        repeat=args.repeat,
        latency_ms=dict(
            median=median * 1e3,
            mean=statistics.fmean(times) * 1e3,
            min=min(times) * 1e3,
            max=max(times) * 1e3,
        ),
        throughput_img_s=args.batch_size / median,
        memory=memory,
    )
    lat = result['latency_ms']
    print(
        f'{os.path.basename(args.config)} on {result["device"]} ({result["threads"]} threads), '
        f'input {result["shape"]}, {result["params_m"]:.2f} M params\n'
        f'latency (ms, {args.repeat} runs after {args.warmup} warm-up): median {lat["median"]:.2f}'
        f'  mean {lat["mean"]:.2f}  min {lat["min"]:.2f}  max {lat["max"]:.2f}\n'
        f'throughput: {result["throughput_img_s"]:.2f} images/s\n'
        f'peak memory ({memory["kind"]}): {memory["peak_mb"]:.1f} MB, '
        f'{memory["above_start_mb"]:.1f} MB above the start of timing'
    )
    if args.out:
        with atomic_output(args.out) as tmp, open(tmp, 'w') as f:
            json.dump(result, f, indent=2)
        print(f'written to {args.out}', file=sys.stderr)
    return result


if __name__ == '__main__':
    main()
