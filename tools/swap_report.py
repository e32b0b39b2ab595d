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

Examples:
    python tools/swap_report.py --task seg                    # all of configs/swap/segformer
    python tools/swap_report.py --task det --size small --input-size 800 1333 --device cpu cuda
    python tools/swap_report.py --task seg --work-dirs work_dirs/ --out-dir reports/seg
    python tools/swap_report.py configs/swap/glpn/*.py --metric d1 --threads 8
"""

import argparse
import glob
import json
import multiprocessing
import os
import os.path as osp
import statistics
import sys

from pvtv2_dense.cli import CLIError, ToolParser, atomic_output, cli_entry, refuse_overwrite

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))

# task -> (folder under configs/swap, default input H W, default metric)
TASKS = {
    'seg': ('segformer', (512, 512), 'mIoU'),
    'depth': ('glpn', (448, 576), 'abs_rel'),
    'det': ('deformable_detr', (800, 1333), 'bbox_mAP'),
    'pan': ('panoptic_segformer', (800, 1333), 'PQ'),
    'ins': ('mask_rcnn', (800, 1333), 'segm_mAP'),
}
# Size class -> backbone names; a config belongs to the class when its backbone field (second
# `_`-separated part of the file name) is one of them or starts with one plus '-'.
SIZES = {'small': ('pvtv2-b2', 'mit-b2', 'swin-t', 'r50')}


def backbone_name(config):
    """The backbone field of a config file name: ``segformer_swin-t_8xb2-...py`` -> ``swin-t``."""
    parts = osp.basename(config)[: -len('.py')].split('_')
    return parts[1] if len(parts) > 2 else parts[-1]


def swap_set(task, size):
    """The configs of ``configs/swap/<task folder>`` whose backbone is in size class ``size``."""
    folder = osp.join(ROOT, 'configs', 'swap', TASKS[task][0])
    names = SIZES[size]
    configs = [
        p
        for p in sorted(glob.glob(osp.join(folder, '*.py')))
        if any(backbone_name(p) == n or backbone_name(p).startswith(n + '-') for n in names)
    ]
    if not configs:
        raise FileNotFoundError(f'no {size} configs in {folder}')
    return configs


def _measure(config, shape, devices, warmup, repeat, threads):
    """Params, FLOPs and per-device latency / memory of one config (runs in a child process)."""
    import torch
    from mmengine.analysis import parameter_count

    from pvtv2_dense.apis.inference import build_model
    from pvtv2_dense.benchmark.complexity import complexity
    from pvtv2_dense.benchmark.dummy import dummy_batch
    from pvtv2_dense.benchmark.timing import time_predict
    from pvtv2_dense.cli import load_config

    if threads:
        torch.set_num_threads(threads)
    cfg = load_config(config)
    params, flops, _ = complexity(cfg, shape)
    row = dict(config=config, backbone=backbone_name(config), params=params, flops=flops)
    row['backbone_type'] = str(cfg.model.backbone.type)
    row['devices'] = {}
    for device in devices:
        model = build_model(cfg, None, device, config)
        if 'backbone_params' not in row:
            row['backbone_params'] = parameter_count(model.backbone)['']
        inputs, samples = dummy_batch(cfg, 1, *shape, device)
        times, memory = time_predict(model, inputs, samples, device, warmup, repeat)
        name = torch.cuda.get_device_name() if device.startswith('cuda') else 'cpu'
        row['devices'][device] = dict(
            name=name,
            threads=torch.get_num_threads(),
            latency_ms=statistics.median(times) * 1e3,
            peak_mb=memory['peak_mb'],
            above_start_mb=memory['above_start_mb'],
        )
        del model, inputs
    return row


def measure(config, shape, devices, warmup=2, repeat=10, threads=None, isolate=True):
    """:func:`_measure` in a fresh process (fork on CPU; spawn when CUDA is involved)."""
    args = (config, shape, devices, warmup, repeat, threads)
    if not isolate:
        return _measure(*args)
    method = 'spawn' if any(d.startswith('cuda') for d in devices) else 'fork'
    with multiprocessing.get_context(method).Pool(1) as pool:
        return pool.apply(_measure, args)


def _lookup(metrics, name):
    if name in metrics:
        return metrics[name]
    hits = [v for k, v in metrics.items() if k.split('/')[-1] == name]
    return hits[0] if len(hits) == 1 else None


def read_metric(work_dir, name):
    """``name`` from ``work_dir``: test_metrics.json first, else the newest scalars.json's last.

    Returns ``(value, source file)`` or ``(None, None)`` when the run has no such metric.
    """
    path = osp.join(work_dir, 'test_metrics.json')
    if osp.isfile(path):
        with open(path) as f:
            value = _lookup(json.load(f), name)
        if value is not None:
            return float(value), path
    scalars = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    for path in reversed(scalars):
        value = None
        with open(path) as f:
            for line in f:
                if line.strip():
                    v = _lookup(json.loads(line), name)
                    value = v if v is not None else value
        if value is not None:
            return float(value), path
    return None, None


def find_work_dir(config, work_dirs):
    """The work dir of ``config``: a given dir named like the config, or ``<dir>/<config stem>``."""
    stem = osp.basename(config)[: -len('.py')]
    for d in work_dirs:
        if osp.basename(osp.normpath(d)) == stem:
            return d
    for d in work_dirs:
        if osp.isdir(osp.join(d, stem)):
            return osp.join(d, stem)
    return None


def markdown(rows, devices, metric, shape, repeat, warmup):
    """The comparison table (one row per config) with a header line saying how it was measured."""
    names = {d: rows[0]['devices'][d]['name'] for d in devices}
    head = ['Backbone', 'Type', 'Params (M)', 'Backbone (M)', 'GFLOPs']
    for d in devices:
        threads = f', {rows[0]["devices"][d]["threads"]} threads' if d == 'cpu' else ''
        head += [f'{names[d]}{threads} latency (ms)', f'{names[d]} peak mem (MB)']
    has_metric = any(r.get('metric') is not None for r in rows)
    if has_metric:
        head.append(metric)
    lines = [
        f'Input 1x3x{shape[0]}x{shape[1]}, batch 1; latency = median of {repeat} runs after '
        f'{warmup} warm-up; peak memory = rise over the timed runs ({", ".join(devices)}); '
        'FLOPs: one multiply-add = 1 FLOP.',
        '',
        '| ' + ' | '.join(head) + ' |',
        '|' + '|'.join(['---'] * 2 + ['---:'] * (len(head) - 2)) + '|',
    ]
    for r in rows:
        cells = [
            r['backbone'],
            f'`{r["backbone_type"]}`',
            f'{r["params"] / 1e6:.1f}',
            f'{r["backbone_params"] / 1e6:.1f}',
            f'{r["flops"] / 1e9:.1f}',
        ]
        for d in devices:
            m = r['devices'][d]
            cells += [f'{m["latency_ms"]:.1f}', f'{m["above_start_mb"]:.0f}']
        if has_metric:
            cells.append('' if r.get('metric') is None else f'{r["metric"]:.4g}')
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines) + '\n'


def plot(rows, devices, metric, out_file):
    """The metric against GFLOPs when runs have one, else latency (first device) against GFLOPs."""
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    with_metric = [r for r in rows if r.get('metric') is not None]
    if with_metric:
        points = [(r['flops'] / 1e9, r['metric'], r['backbone']) for r in with_metric]
        ylabel = metric
    else:
        points = [
            (r['flops'] / 1e9, r['devices'][devices[0]]['latency_ms'], r['backbone']) for r in rows
        ]
        ylabel = f'latency on {rows[0]["devices"][devices[0]]["name"]} (ms)'
    fig, ax = plt.subplots(figsize=(6, 4))
    for x, y, label in points:
        ax.scatter(x, y, s=40)
        ax.annotate(label, (x, y), textcoords='offset points', xytext=(5, 5))
    ax.set_xlabel('GFLOPs')
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out_file, dpi=100)
    plt.close(fig)
    return out_file


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


def _task_of(configs):
    folders = {osp.basename(osp.dirname(osp.abspath(c))) for c in configs}
    hits = [t for t, (folder, *_) in TASKS.items() if folders == {folder}]
    return hits[0] if hits else None


@cli_entry
def main(argv=None):
    args = parse_args(argv)
    configs = swap_set(args.task, args.size) if args.task else args.configs
    for c in configs:
        if not osp.isfile(c):
            raise CLIError(f'config file {c} does not exist')
    task = args.task or _task_of(configs)
    _, default_shape, default_metric = TASKS.get(task, (None, (512, 512), None))
    shape = tuple(
        args.input_size * 2
        if args.input_size and len(args.input_size) == 1
        else args.input_size or default_shape
    )
    metric = args.metric or default_metric
    if args.work_dirs and not metric:
        raise CLIError('--work-dirs needs --metric for configs outside configs/swap/<task>')
    import torch

    devices = args.device or ['cuda' if torch.cuda.is_available() else 'cpu']
    for d in devices:
        if d.startswith('cuda') and not torch.cuda.is_available():
            raise CLIError('--device cuda asked for, but torch sees no GPU')
        if not (d == 'cpu' or d.startswith('cuda')):
            raise CLIError(f'--device takes cpu or cuda[:N], got {d!r}')
    out_dir = args.out_dir or osp.join('work_dirs', 'swap_report', task or 'custom')
    paths = {k: osp.join(out_dir, f'swap_report.{k}') for k in ('md', 'json', 'png')}
    for path in paths.values():  # before the minutes of measuring
        refuse_overwrite(path, 'report', args.overwrite)
    os.makedirs(out_dir, exist_ok=True)
    rows = []
    for c in configs:
        print(f'measuring {osp.relpath(c)} ...', file=sys.stderr, flush=True)
        row = measure(
            c, shape, devices, args.warmup, args.repeat, args.threads, isolate=not args.no_isolate
        )
        if args.work_dirs:
            wd = find_work_dir(c, args.work_dirs)
            row['metric'], row['metric_file'] = read_metric(wd, metric) if wd else (None, None)
            if row['metric'] is None:
                print(f'note: no {metric} for {osp.basename(c)} in --work-dirs', file=sys.stderr)
        rows.append(row)
    table = markdown(rows, devices, metric, shape, args.repeat, args.warmup)
    with atomic_output(paths['md']) as tmp, open(tmp, 'w') as f:
        f.write(table)
    with atomic_output(paths['json']) as tmp, open(tmp, 'w') as f:
        json.dump(dict(shape=shape, metric=metric, rows=rows), f, indent=2)
    with atomic_output(paths['png']) as tmp:
        plot(rows, devices, metric, tmp)
    print(table)
    print('written: ' + ', '.join(paths.values()), file=sys.stderr)
    return rows


if __name__ == '__main__':
    main()
