"""Training and validation curves of one or several work dirs in one plot.

mmengine's ``LocalVisBackend`` logs every scalar as a JSON line in
``WORK_DIR/<run timestamp>/vis_data/scalars.json``: training lines (they carry ``lr``) at the
logging interval, validation lines (the metrics) after each evaluation, each with its ``step``.
``analyze_logs`` reads the latest run of each work dir (or a ``scalars.json`` given directly),
plots the chosen keys (default: ``loss`` and every validation metric), one panel per key and
one line per work dir, and writes ``curves.png`` and ``curves.csv`` (work_dir, split, key, step,
value).
"""

import glob
import json
import os.path as osp

from ...errors import DataError
from .results_io import new_figure, save_figure, write_csv

_TRAIN_ONLY = ('lr', 'loss')
_NOT_CURVES = ('step', 'iter', 'epoch', 'data_time', 'time', 'memory', 'lr')


def find_scalars(path: str) -> str:
    """The ``scalars.json`` of the latest run under the work dir ``path`` (or ``path``)."""
    if osp.isfile(path):
        return path
    found = sorted(glob.glob(osp.join(path, '*', 'vis_data', 'scalars.json')))
    if not found:
        raise DataError(f'{path}: no <run>/vis_data/scalars.json (a work dir of tools/train.py)')
    return found[-1]


def read_scalars(path: str) -> dict:
    """{(split, key): [(step, value), ...]} from a ``scalars.json``."""
    curves = {}
    with open(path) as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as e:
                raise DataError(f'{path}, line {number}: not JSON ({e.msg})') from e
            split = 'train' if any(k in record for k in _TRAIN_ONLY) else 'val'
            step = record.get('step', record.get('iter', number))
            for key, value in record.items():
                if key not in _NOT_CURVES and isinstance(value, (int, float)):
                    curves.setdefault((split, key), []).append((step, float(value)))
    return curves


def analyze_logs(work_dirs, out_dir, keys=None, labels=None):
    """Plot the curves of ``work_dirs`` into ``out_dir/curves.png`` (+ ``curves.csv``).

    Args:
        work_dirs: work dirs (or ``scalars.json`` files).
        out_dir: output folder.
        keys: scalar names to plot (``loss``, ``mIoU``, ``coco/bbox_mAP``, ...); None: ``loss``
            and every validation metric.
        labels: legend names, one per work dir; None: the folder names.

    Returns:
        ({label: {(split, key): [(step, value)]}}, {'png': path, 'csv': path}).

    Raises:
        DataError: a work dir without logs, or a key no run logged.
    """
    labels = labels or [osp.basename(osp.normpath(w)) for w in work_dirs]
    if len(labels) != len(work_dirs):
        raise DataError(f'{len(labels)} labels for {len(work_dirs)} work dirs')
    runs = {label: read_scalars(find_scalars(w)) for label, w in zip(labels, work_dirs)}
    available = sorted({sk for curves in runs.values() for sk in curves})
    if keys is None:
        chosen = [sk for sk in available if sk == ('train', 'loss') or sk[0] == 'val']
    else:
        chosen = [sk for sk in available if sk[1] in keys]
        missing = set(keys) - {k for _, k in chosen}
        if missing:
            names = ', '.join(sorted({k for _, k in available}))
            raise DataError(f'no run logged {sorted(missing)} (logged: {names})')
    if not chosen:
        raise DataError(f'{", ".join(work_dirs)}: no scalars to plot')
    fig, axes = new_figure(5 * len(chosen), 4, ncols=len(chosen))
    axes = axes if len(chosen) > 1 else [axes]
    rows = []
    for ax, (split, key) in zip(axes, chosen):
        for label, curves in runs.items():
            points = curves.get((split, key), [])
            if points:
                steps, values = zip(*points)
                ax.plot(steps, values, marker='.' if split == 'val' else None, label=label)
                rows += [[label, split, key, s, v] for s, v in points]
        ax.set_title(f'{split}: {key}')
        ax.set_xlabel('step')
        ax.legend(fontsize=7)
    paths = dict(
        png=save_figure(fig, osp.join(out_dir, 'curves.png')),
        csv=write_csv(
            osp.join(out_dir, 'curves.csv'), ['run', 'split', 'key', 'step', 'value'], rows
        ),
    )
    return runs, paths
