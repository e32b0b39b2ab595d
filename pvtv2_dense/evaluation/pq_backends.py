"""Panoptic quality (PQ, SQ, RQ; all, things, stuff and per class) of COCO panoptic results on
disk, by panopticapi's algorithm as mmdet runs it (``pq_compute_multi_core``, our metric's
path) or by hotcoco. Both return panopticapi's ``pq_compute`` shape::

    {'All': {'pq', 'sq', 'rq', 'n'}, 'Things': {...}, 'Stuff': {...},
     'per_class': {category_id: {'pq', 'sq', 'rq'}}}
"""

import contextlib
import io
import json
import os

from ..errors import ConfigError

PQ_BACKENDS = ('panopticapi', 'hotcoco')


def available_cores() -> int:
    """The CPU cores this process may run on (its affinity mask, not the machine's count)."""
    if hasattr(os, 'sched_getaffinity'):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def resolve_nproc(nproc) -> int:
    """``nproc`` processes, at most :func:`available_cores`; ``None`` means all of them.

    Raises:
        ConfigError: ``nproc`` is not a positive integer or None.
    """
    if nproc is None:
        return available_cores()
    if isinstance(nproc, bool) or not isinstance(nproc, int) or nproc < 1:
        raise ConfigError(f'nproc={nproc!r}: expected a positive integer or None (all cores)')
    return min(nproc, available_cores())


def _load(path):
    with open(path) as f:
        return json.load(f)


def pq_panopticapi(gt_json, pred_json, gt_folder, pred_folder, nproc=None) -> dict:
    """PQ by panopticapi's algorithm in ``nproc`` processes (None: every available core)."""
    from mmdet.evaluation.functional import pq_compute_multi_core

    gt, pred = _load(gt_json), _load(pred_json)
    categories = {c['id']: c for c in gt['categories']}
    preds = {a['image_id']: a for a in pred['annotations']}
    missing = [a['image_id'] for a in gt['annotations'] if a['image_id'] not in preds]
    if missing:
        raise ConfigError(f'{pred_json}: no prediction for image ids {missing[:5]}')
    matched = [(a, preds[a['image_id']]) for a in gt['annotations']]
    # mmdet's function prints a progress line per worker; the caller wants only the numbers.
    with contextlib.redirect_stdout(io.StringIO()):
        stat = pq_compute_multi_core(
            matched, gt_folder, pred_folder, categories, nproc=resolve_nproc(nproc)
        )
    results = {}
    for name, isthing in (('All', None), ('Things', True), ('Stuff', False)):
        results[name], per_class = stat.pq_average(categories, isthing=isthing)
        if isthing is None:
            results['per_class'] = per_class
    return results


def pq_hotcoco(gt_json, pred_json, gt_folder, pred_folder) -> dict:
    """PQ by hotcoco (Rust; its own threads)."""
    try:
        from hotcoco.panoptic import pq_compute
    except ImportError as e:
        raise ConfigError('the hotcoco PQ backend needs the hotcoco package') from e
    with contextlib.redirect_stdout(io.StringIO()):
        results = pq_compute(str(gt_json), str(pred_json), str(gt_folder), str(pred_folder))
    results['per_class'] = {int(k): v for k, v in results['per_class'].items()}
    return results


def pq_max_difference(a: dict, b: dict) -> float:
    """The largest absolute difference between two PQ results, over PQ, SQ and RQ of all,
    things, stuff and every class (a class missing from one counts as a difference of 1)."""
    worst = 0.0
    rows = [(a[k], b[k]) for k in ('All', 'Things', 'Stuff')]
    classes = set(a['per_class']) | set(b['per_class'])
    rows += [(a['per_class'].get(c), b['per_class'].get(c)) for c in classes]
    for x, y in rows:
        if x is None or y is None:
            return 1.0
        worst = max(worst, *(abs(float(x[m]) - float(y[m])) for m in ('pq', 'sq', 'rq')))
    return worst
