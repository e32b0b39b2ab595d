"""COCO box and mask AP with interchangeable evaluators: pycocotools (the reference),
faster-coco-eval and hotcoco.

Each backend is a (ground-truth API class, evaluator class) pair with pycocotools' interface
(``COCO(...).loadRes(results)``, ``COCOeval(gt, dt, iou_type)``, ``evaluate / accumulate /
summarize`` and ``stats``). ``stats[:12]`` are COCO's 12 summary numbers; the test suite and
``tools/analysis_tools/benchmark_coco_eval.py`` check that the faster backends give pycocotools'
numbers.
"""

import contextlib
import io
import json

import numpy as np

from ..errors import ConfigError, did_you_mean

BACKENDS = ('pycocotools', 'faster_coco_eval', 'hotcoco')
# Where pycocotools reads AP (the first of the 12 numbers): at 100 detections per image.
_PYCOCOTOOLS_AP_MAX_DETS = 100


def _faster_eval_class():
    from faster_coco_eval import COCOeval_faster

    class PycocotoolsStats(COCOeval_faster):
        """faster-coco-eval's evaluator whose ``stats[0]`` (AP) is read where pycocotools reads
        it: at 100 detections per image, not at the largest ``params.maxDets``."""

        def summarize(self):
            super().summarize()
            if _PYCOCOTOOLS_AP_MAX_DETS in self.params.maxDets:
                self.stats[0] = self._summarize(1, maxDets=_PYCOCOTOOLS_AP_MAX_DETS)

    return PycocotoolsStats


def backend_classes(backend: str):
    """The (COCO, COCOeval) classes of ``backend`` (one of :data:`BACKENDS`).

    Raises:
        ConfigError: an unknown backend, or one whose package is not installed.
    """
    if backend not in BACKENDS:
        raise ConfigError(
            f"backend='{backend}': expected one of {', '.join(BACKENDS)}"
            + did_you_mean(backend, BACKENDS)
        )
    try:
        if backend == 'pycocotools':
            from pycocotools.coco import COCO
            from pycocotools.cocoeval import COCOeval

            return COCO, COCOeval
        if backend == 'faster_coco_eval':
            from faster_coco_eval import COCO

            return COCO, _faster_eval_class()
        from hotcoco import COCO, COCOeval

        return COCO, COCOeval
    except ImportError as e:
        package = backend.replace('_', '-')
        raise ConfigError(
            f"backend='{backend}' needs the {package} package: pip install {package}"
        ) from e


def load_gt(backend: str, gt: dict):
    """A ``backend`` ground-truth API over the COCO dict ``gt`` (not modified)."""
    coco_cls, _ = backend_classes(backend)
    # A copy through JSON: pycocotools' index keeps the dicts it was given and evaluators
    # annotate them (ignore flags, RLEs), so every backend starts from the same bytes.
    gt = json.loads(json.dumps(gt))
    if backend == 'hotcoco':
        return coco_cls(gt)
    api = coco_cls()
    api.dataset = gt
    with contextlib.redirect_stdout(io.StringIO()):
        api.createIndex()
    return api


def coco_stats(backend: str, gt_api, results: list, iou_type: str) -> np.ndarray:
    """COCO's 12 summary numbers of ``results`` (COCO results format, not modified) scored
    against ``gt_api`` (from :func:`load_gt` with the same backend)."""
    _, eval_cls = backend_classes(backend)
    results = json.loads(json.dumps(results))
    # pycocotools prints its progress and tables; the caller wants the numbers.
    with contextlib.redirect_stdout(io.StringIO()):
        dt_api = gt_api.loadRes(results)
        evaluator = eval_cls(gt_api, dt_api, iou_type)
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return np.asarray(evaluator.stats[:12], dtype=np.float64)
