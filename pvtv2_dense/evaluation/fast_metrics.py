"""mmdet's COCO metrics with a selectable evaluator: ``FastCocoMetric`` (box / mask AP) and
``FastCocoPanopticMetric`` (PQ).

Both are mmdet's metrics (same options, keys and logs) whose inner evaluator is chosen by
``backend``. The defaults are the backends that reproduce the reference's numbers exactly
(``tests/evaluation/test_fast_metrics.py``; at COCO scale
``tools/analysis_tools/benchmark_coco_eval.py``): faster-coco-eval for AP (pycocotools' numbers),
hotcoco for PQ (panopticapi's). ``backend='pycocotools'`` / ``'panopticapi'`` select the
reference implementations.
"""

import contextlib
import io
import json
import os.path as osp
import tempfile

from mmdet.evaluation.metrics import CocoMetric, CocoPanopticMetric
from mmdet.evaluation.metrics import coco_metric as _coco_metric_module
from mmdet.evaluation.metrics import coco_panoptic_metric as _panoptic_metric_module
from mmengine.dist import get_world_size

from ..errors import ConfigError
from ..registry import register_metric
from .coco_backends import backend_classes
from .pq_backends import PQ_BACKENDS, resolve_nproc

AP_METRIC_BACKENDS = ('faster_coco_eval', 'pycocotools')


@contextlib.contextmanager
def _module_names(module, **names):
    """Bind ``names`` in ``module`` for the duration (mmdet looks its COCO classes up there)."""
    saved = {k: getattr(module, k) for k in names}
    try:
        for k, v in names.items():
            setattr(module, k, v)
        yield
    finally:
        for k, v in saved.items():
            setattr(module, k, v)


@register_metric()
class FastCocoMetric(CocoMetric):
    """mmdet's ``CocoMetric`` (bbox, segm, proposal AP/AR) with a selectable COCO evaluator.

    Args:
        backend (str): ``'faster_coco_eval'`` (default; C++ matching, the same 12 numbers as
            pycocotools) or ``'pycocotools'`` (the reference).
        **kwargs: ``CocoMetric``'s arguments (``ann_file``, ``metric``, ``classwise``, ...).
            ``use_mp_eval`` (mmdet's multi-process pycocotools) needs ``backend='pycocotools'``.

    Raises:
        ConfigError: an unknown backend, one not installed, or ``use_mp_eval`` with
            faster-coco-eval.
    """

    def __init__(self, *args, backend: str = 'faster_coco_eval', **kwargs):
        if backend not in AP_METRIC_BACKENDS:
            raise ConfigError(
                f"FastCocoMetric: backend='{backend}', expected one of "
                f'{", ".join(AP_METRIC_BACKENDS)}'
            )
        if kwargs.get('use_mp_eval') and backend != 'pycocotools':
            raise ConfigError(
                "FastCocoMetric: use_mp_eval=True is mmdet's multi-process pycocotools; "
                "set backend='pycocotools' or drop use_mp_eval"
            )
        if backend == 'pycocotools':  # mmdet's own classes (its COCO adds snake_case names)
            self.coco_classes = (_coco_metric_module.COCO, _coco_metric_module.COCOeval)
        else:
            self.coco_classes = backend_classes(backend)
        self.backend = backend
        with self._backend():
            super().__init__(*args, **kwargs)

    def _backend(self):
        coco, coco_eval = self.coco_classes
        return _module_names(_coco_metric_module, COCO=coco, COCOeval=coco_eval)

    def compute_metrics(self, results: list) -> dict:
        """mmdet's ``compute_metrics`` with this metric's COCO classes."""
        with self._backend():
            return super().compute_metrics(results)


def _hotcoco_pq_stat(matched, gt_folder, pred_folder, categories, backend_args=None, nproc=1):
    """panopticapi's ``PQStat`` of ``matched`` (gt, pred) annotation pairs, counted by hotcoco
    (the same tp / fp / fn / IoU sums; mmdet then averages them as usual)."""
    from hotcoco.panoptic import pq_compute
    from panopticapi.evaluation import PQStat

    images = [dict(id=gt['image_id'], file_name=gt['file_name']) for gt, _ in matched]
    cats = list(categories.values())
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for i, name in enumerate(('gt', 'pred')):
            anns = [pair[i] for pair in matched]
            files.append(osp.join(tmp, f'{name}.json'))
            with open(files[-1], 'w') as f:
                json.dump(dict(images=images, annotations=anns, categories=cats), f)
        with contextlib.redirect_stdout(io.StringIO()):
            per_class = pq_compute(files[0], files[1], gt_folder, pred_folder)['per_class']
    stat = PQStat()
    for cat_id, counts in per_class.items():
        entry = stat[int(cat_id)]
        entry.iou, entry.tp, entry.fp, entry.fn = (counts[k] for k in ('iou', 'tp', 'fp', 'fn'))
    return stat


@register_metric()
class FastCocoPanopticMetric(CocoPanopticMetric):
    """mmdet's ``CocoPanopticMetric`` (PQ, SQ, RQ) whose PQ uses the cores it is given.

    In a single-process run the predictions are kept and PQ is computed once at the end:
    by hotcoco (default; panopticapi's numbers, per class too) or by panopticapi's algorithm
    in ``nproc`` processes. A distributed run keeps mmdet's per-batch PQ in each process.

    Args:
        backend (str): ``'hotcoco'`` (default) or ``'panopticapi'``.
        nproc (int, optional): processes for ``backend='panopticapi'``; None (default) uses
            every core this process may run on (its CPU affinity), a number at most that.
        **kwargs: ``CocoPanopticMetric``'s arguments (``ann_file``, ``seg_prefix``, ...).

    Raises:
        ConfigError: an unknown backend, a bad ``nproc``, or hotcoco with non-local storage
            (``backend_args``), which it cannot read.
    """

    def __init__(self, *args, backend: str = 'hotcoco', nproc=None, **kwargs):
        self.tmp_dir = None  # mmdet's __del__ reads it, also when the checks below refuse
        if backend not in PQ_BACKENDS:
            raise ConfigError(
                f"FastCocoPanopticMetric: backend='{backend}', expected one of "
                f'{", ".join(PQ_BACKENDS)}'
            )
        storage = (kwargs.get('backend_args') or {}).get('backend', 'local')
        if backend == 'hotcoco' and storage != 'local':
            raise ConfigError(
                f"FastCocoPanopticMetric: backend='hotcoco' reads local files only, not "
                f"backend_args.backend='{storage}'; set backend='panopticapi'"
            )
        self.backend = backend
        super().__init__(*args, nproc=resolve_nproc(nproc), **kwargs)
        # mmdet computes PQ batch by batch in the main process when it owns a temporary
        # folder; keeping that folder but taking the deferred path computes it once at the end.
        self._scratch = None
        if self.tmp_dir is not None and get_world_size() == 1:
            self._scratch, self.tmp_dir = self.tmp_dir, None

    def compute_metrics(self, results: list) -> dict:
        """mmdet's ``compute_metrics`` with this metric's PQ backend."""
        if self.backend == 'panopticapi':
            return super().compute_metrics(results)
        with _module_names(_panoptic_metric_module, pq_compute_multi_core=_hotcoco_pq_stat):
            return super().compute_metrics(results)
