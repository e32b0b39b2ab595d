"""Depth error by distance: the depth metrics over the valid pixels whose ground-truth depth
falls in each range (e.g. 0-2 m, 2-4 m, ...), from a saved depth test run."""

import os.path as osp

import numpy as np

from ...errors import ConfigError
from .results_io import load_results, new_figure, save_figure, to_numpy, write_csv

METRICS = ('abs_rel', 'sq_rel', 'rmse', 'd1')


def _bin_metrics(pred, gt):
    ratio = np.maximum(pred / gt, gt / pred)
    return dict(
        abs_rel=float(np.mean(np.abs(pred - gt) / gt)),
        sq_rel=float(np.mean((pred - gt) ** 2 / gt)),
        rmse=float(np.sqrt(np.mean((pred - gt) ** 2))),
        d1=float(np.mean(ratio < 1.25)),
    )


def depth_error_by_range(results, out_dir, edges=None, num_bins=8, min_depth=1e-3):
    """Write ``depth_error_by_range.csv`` and ``.png`` to ``out_dir``.

    Args:
        results: the ``tools/test.py --out`` pickle of a depth config.
        out_dir: output folder.
        edges: increasing range edges in metres; None: ``num_bins`` equal ranges from 0 to the
            largest ground-truth depth.
        num_bins: number of ranges when ``edges`` is None.
        min_depth: ground truth at or below this is invalid (no measurement).

    Returns:
        (rows, paths): one dict per range (``low, high, pixels`` and :data:`METRICS`).

    Raises:
        ConfigError: ``edges`` not increasing, or fewer than two.
    """
    samples = load_results(results, ('pred_depth_map', 'gt_depth_map'))
    preds, gts = [], []
    for sample in samples:
        gt = to_numpy(sample['gt_depth_map']).reshape(-1).astype(np.float64)
        pred = to_numpy(sample['pred_depth_map']).reshape(-1).astype(np.float64)
        valid = (gt > min_depth) & np.isfinite(gt)
        preds.append(np.maximum(pred[valid], min_depth))
        gts.append(gt[valid])
    pred, gt = np.concatenate(preds), np.concatenate(gts)
    if edges is None:
        edges = np.linspace(0, float(gt.max()) if gt.size else 1.0, num_bins + 1)
    edges = np.asarray(edges, np.float64)
    if edges.size < 2 or np.any(np.diff(edges) <= 0):
        raise ConfigError(f'edges={edges.tolist()}: expected two or more increasing depths')
    rows = []
    for low, high in zip(edges[:-1], edges[1:]):
        last = high == edges[-1]
        inside = (gt >= low) & ((gt <= high) if last else (gt < high))
        row = dict(low=float(low), high=float(high), pixels=int(inside.sum()))
        nan = dict.fromkeys(METRICS, float('nan'))
        row.update(_bin_metrics(pred[inside], gt[inside]) if inside.any() else nan)
        rows.append(row)
    header = ['low', 'high', 'pixels', *METRICS]
    csv_path = write_csv(
        osp.join(out_dir, 'depth_error_by_range.csv'),
        header,
        [[r[k] for k in header] for r in rows],
    )
    fig, ax = new_figure()
    labels = [f'{r["low"]:.1f}-{r["high"]:.1f}' for r in rows]
    ax.bar(range(len(rows)), [r['abs_rel'] for r in rows], color='tab:orange')
    ax.set_xticks(range(len(rows)))
    ax.set_xticklabels(labels, rotation=45, fontsize=8)
    ax.set_xlabel('ground-truth depth range (m)')
    ax.set_ylabel('abs_rel')
    twin = ax.twinx()
    twin.plot(range(len(rows)), [r['rmse'] for r in rows], 'k.-', label='rmse')
    twin.set_ylabel('rmse (m)')
    ax.set_title('depth error by distance')
    png = save_figure(fig, osp.join(out_dir, 'depth_error_by_range.png'))
    return rows, dict(csv=csv_path, png=png)
