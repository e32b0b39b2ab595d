"""Reading saved results (``tools/test.py --out preds.pkl``) and writing the diagnostics' files.

``--out`` dumps mmengine's ``DumpResults`` list: one dict per test image, the data sample as
``to_dict()`` gives it (``img_path``, ``ori_shape``, ``pred_sem_seg`` / ``gt_sem_seg`` with a
``data`` tensor, ``pred_instances`` / ``gt_instances``, ``pred_depth_map`` / ``gt_depth_map``).
The pickle is a file the user's own test run wrote; nothing else is loaded from it.
"""

import csv
import json
import os
import os.path as osp

import numpy as np

from ...errors import DataError

try:  # matplotlib draws into files only; no display is needed or used.
    import matplotlib

    matplotlib.use('Agg')
except ImportError:  # pragma: no cover  (matplotlib is a runtime requirement)
    matplotlib = None


def load_results(path: str, required=()) -> list:
    """The data samples in the ``--out`` pickle ``path``.

    Args:
        path: a ``.pkl`` written by ``tools/test.py --out``.
        required: keys every sample must have (e.g. ``('pred_sem_seg', 'gt_sem_seg')``).

    Raises:
        DataError: the file is missing, not a list of samples, or lacks a required key.
    """
    import mmengine

    if not osp.isfile(path):
        raise DataError(f'{path}: no such results file (write one with tools/test.py --out)')
    try:
        samples = mmengine.load(path, file_format='pkl')
    except Exception as e:  # noqa: BLE001  (any unpickling failure is a bad file)
        raise DataError(f'{path}: not a results pickle of tools/test.py --out ({e})') from e
    if not isinstance(samples, list) or not samples or not isinstance(samples[0], dict):
        raise DataError(f'{path}: expected a non-empty list of data samples (tools/test.py --out)')
    for key in required:
        if key not in samples[0]:
            have = ', '.join(sorted(samples[0]))
            raise DataError(f'{path}: samples have no {key!r} (they have: {have})')
    return samples


def to_numpy(value) -> np.ndarray:
    """A tensor, box object (``.tensor``), element dict (``data``) or array as numpy."""
    if isinstance(value, dict) and 'data' in value:
        value = value['data']
    if hasattr(value, 'tensor'):  # mmdet's HorizontalBoxes
        value = value.tensor
    if hasattr(value, 'detach'):
        value = value.detach().cpu().numpy()
    return np.asarray(value)


def write_csv(path: str, header, rows) -> str:
    """``rows`` under ``header`` as CSV at ``path``; returns ``path``."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(path, 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_json(path: str, data) -> str:
    """``data`` as indented JSON at ``path``; returns ``path``."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(path, 'w') as f:
        json.dump(data, f, indent=2)
    return path


def new_figure(width=6.4, height=4.8, ncols=1):
    """A matplotlib figure and its axes (Agg backend): one, or a list of ``ncols`` in a row."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, ncols, figsize=(width, height))
    return fig, (list(np.atleast_1d(axes)) if ncols > 1 else axes)


def save_figure(fig, path: str) -> str:
    """Save ``fig`` as PNG at ``path`` and close it; returns ``path``."""
    import matplotlib.pyplot as plt

    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def bar_plot(path: str, names, values, ylabel: str, title: str) -> str:
    """A bar per class (NaN bars left empty) saved as PNG at ``path``."""
    fig, ax = new_figure(max(6.4, 0.3 * len(names)), 4.8)
    values = np.asarray(values, dtype=float)
    ax.bar(range(len(names)), np.nan_to_num(values), color='tab:blue')
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, rotation=90, fontsize=7)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    return save_figure(fig, path)
