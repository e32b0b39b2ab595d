"""Compare the backbones of a swap study: params, FLOPs, latency, peak memory and results.

Each config is measured in a fresh process (so one model's memory does not hide another's) by
the package functions behind ``tools/analysis_tools/get_flops.py`` (parameters, FLOPs: one
multiply-add = one FLOP) and ``tools/analysis_tools/benchmark.py`` (median latency of
``predict`` on a random batch, peak memory over the timed iterations: on CPU the rise of the
peak resident set, on GPU ``max_memory_allocated``). No weights are loaded. With
``--work-dirs``, the metric of each finished run is read from its work dir
(``test_metrics.json`` from tools/test.py, else the last value in mmengine's
``vis_data/scalars.json``). Writes ``swap_report.md`` (a Markdown table),
``swap_report.json`` and ``swap_report.png`` (the metric, or else latency, against GFLOPs).
The logic is ``pvtv2_dense.benchmark.swap_report``.

Examples:
    python tools/swap_report.py --task seg                    # all of configs/swap/segformer
    python tools/swap_report.py --task det --size small --input-size 800 1333 --device cpu cuda
    python tools/swap_report.py --task seg --work-dirs work_dirs/ --out-dir reports/seg
    python tools/swap_report.py configs/swap/glpn/*.py --metric d1 --threads 8
"""

import argparse
import os.path as osp

from pvtv2_dense.benchmark.swap_report import SIZES, TASKS, swap_set, task_of, write_swap_report
from pvtv2_dense.cli import CLIError, ToolParser, cli_entry

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def parse_args(argv=None):
    parser = ToolParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('configs', nargs='*', help='configs to compare (or use --task)')
    parser.add_argument('--task', choices=sorted(TASKS), help='the swap set of configs/swap/')
    parser.add_argument('--size', choices=sorted(SIZES), default='small', help='size class')
    parser.add_argument('--input-size', type=int, nargs='+', help='H [W] (default: per task)')
    parser.add_argument('--device', nargs='+', default=None, help='cpu and/or cuda')
    parser.add_argument('--warmup', type=int, default=2, help='untimed iterations first')
    parser.add_argument('--repeat', type=int, default=10, help='timed iterations')
    parser.add_argument('--threads', type=int, default=None, help='CPU threads for torch')
    parser.add_argument('--work-dirs', nargs='+', default=[], help='finished runs to read')
    parser.add_argument('--metric', help='metric to read (default: per task)')
    parser.add_argument('--out-dir', help='default: work_dirs/swap_report/<task>')
    parser.add_argument(
        '--overwrite', action='store_true', help='write over an earlier report in --out-dir'
    )
    parser.add_argument('--no-isolate', action='store_true', help='no child process (faster)')
    args = parser.parse_args(argv)
    if bool(args.configs) == bool(args.task):
        parser.error('give configs or --task, not both')
    if args.input_size and (len(args.input_size) > 2 or min(args.input_size) < 1):
        parser.error('--input-size takes H or H W (positive)')
    if args.repeat < 1 or args.warmup < 0:
        parser.error('--repeat must be >= 1 and --warmup >= 0')
    return args


@cli_entry
def main(argv=None):
    args = parse_args(argv)
    configs = swap_set(args.task, args.size, ROOT) if args.task else args.configs
    for c in configs:
        if not osp.isfile(c):
            raise CLIError(f'config file {c} does not exist')
    task = args.task or task_of(configs)
    _, default_shape, default_metric = TASKS.get(task, (None, (512, 512), None))
    size = args.input_size or default_shape
    metric = args.metric or default_metric
    if args.work_dirs and not metric:
        raise CLIError('--work-dirs needs --metric for configs outside configs/swap/<task>')
    import torch

    return write_swap_report(
        configs,
        tuple(size) * 2 if len(size) == 1 else tuple(size),
        args.device or ['cuda' if torch.cuda.is_available() else 'cpu'],
        args.out_dir or osp.join('work_dirs', 'swap_report', task or 'custom'),
        metric,
        args.work_dirs,
        args.warmup,
        args.repeat,
        args.threads,
        isolate=not args.no_isolate,
        overwrite=args.overwrite,
    )


if __name__ == '__main__':
    main()
