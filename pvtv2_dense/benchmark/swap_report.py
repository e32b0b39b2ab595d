"""The swap report: params, FLOPs, latency, peak memory and results of the backbones of a swap
study (``configs/swap``), one config at a time in a fresh process; ``tools/swap_report.py`` is its
command line (the measures are those of ``tools/analysis_tools/get_flops.py`` and
``benchmark.py``)."""

import glob
import json
import multiprocessing
import os
import os.path as osp
import statistics
import sys

from ..apis.report import read_metric
from ..errors import ConfigError
from ..fileio import atomic_output, refuse_overwrite

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


def swap_set(task, size, root):
    """The configs of ``<root>/configs/swap/<task folder>`` whose backbone is in size class
    ``size``.

    Raises:
        ConfigError: the folder has no config of that size class.
    """
    folder = osp.join(root, 'configs', 'swap', TASKS[task][0])
    names = SIZES[size]
    configs = [
        p
        for p in sorted(glob.glob(osp.join(folder, '*.py')))
        if any(backbone_name(p) == n or backbone_name(p).startswith(n + '-') for n in names)
    ]
    if not configs:
        raise ConfigError(f'no {size} configs in {folder}')
    return configs


def _measure(config, shape, devices, warmup, repeat, threads):
    """Params, FLOPs and per-device latency / memory of one config (runs in a child process)."""
    import torch
    from mmengine.analysis import parameter_count
    from mmengine.config import Config

    from ..apis.inference import build_model
    from .complexity import complexity
    from .dummy import dummy_batch
    from .timing import time_predict

    if threads:
        torch.set_num_threads(threads)
    cfg = Config.fromfile(config)
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


def task_of(configs):
    """The task of ``TASKS`` whose swap folder holds every config, or None."""
    folders = {osp.basename(osp.dirname(osp.abspath(c))) for c in configs}
    hits = [t for t, (folder, *_) in TASKS.items() if folders == {folder}]
    return hits[0] if hits else None


def check_devices(devices):
    """Raise a ConfigError for a device other than cpu or an available cuda[:N]."""
    import torch

    for d in devices:
        if not (d == 'cpu' or d.startswith('cuda')):
            raise ConfigError(f'--device takes cpu or cuda[:N], got {d!r}')
        if d.startswith('cuda') and not torch.cuda.is_available():
            raise ConfigError('--device cuda asked for, but torch sees no GPU')


def write_swap_report(
    configs,
    shape,
    devices,
    out_dir,
    metric=None,
    work_dirs=(),
    warmup=2,
    repeat=10,
    threads=None,
    isolate=True,
    overwrite=False,
):
    """Measure ``configs`` and write ``swap_report.{md,json,png}`` into ``out_dir``.

    Args:
        configs (list[str]): config files.
        shape (tuple[int, int]): input H, W.
        devices (list[str]): 'cpu' and/or 'cuda[:N]'.
        out_dir (str): where the report goes.
        metric (str, optional): the metric read from each config's run in ``work_dirs``.
        work_dirs (Sequence[str]): finished runs (see :func:`find_work_dir`).
        warmup (int): untimed iterations first.
        repeat (int): timed iterations.
        threads (int, optional): CPU threads for torch.
        isolate (bool): measure each config in a child process.
        overwrite (bool): write over an earlier report.

    Returns:
        list[dict]: one row per config.

    Raises:
        ConfigError: a bad device; OutputError: a report exists and ``overwrite`` is False
            (both before any measuring).
    """
    check_devices(devices)
    paths = {k: osp.join(out_dir, f'swap_report.{k}') for k in ('md', 'json', 'png')}
    for path in paths.values():  # before the minutes of measuring
        refuse_overwrite(path, 'report', overwrite)
    os.makedirs(out_dir, exist_ok=True)
    rows = []
    for c in configs:
        print(f'measuring {osp.relpath(c)} ...', file=sys.stderr, flush=True)
        row = measure(c, shape, devices, warmup, repeat, threads, isolate=isolate)
        if work_dirs:
            wd = find_work_dir(c, work_dirs)
            row['metric'], row['metric_file'] = read_metric(wd, metric) if wd else (None, None)
            if row['metric'] is None:
                print(f'note: no {metric} for {osp.basename(c)} in --work-dirs', file=sys.stderr)
        rows.append(row)
    table = markdown(rows, devices, metric, shape, repeat, warmup)
    with atomic_output(paths['md']) as tmp, open(tmp, 'w') as f:
        f.write(table)
    with atomic_output(paths['json']) as tmp, open(tmp, 'w') as f:
        json.dump(dict(shape=shape, metric=metric, rows=rows), f, indent=2)
    with atomic_output(paths['png']) as tmp:
        plot(rows, devices, metric, tmp)
    print(table)
    print('written: ' + ', '.join(paths.values()), file=sys.stderr)
    return rows
