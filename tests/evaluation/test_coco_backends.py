"""The faster COCO evaluators give the reference's numbers: faster-coco-eval and hotcoco against
pycocotools (box and mask AP, the 12 numbers), hotcoco and multi-process panopticapi against
single-process panopticapi (PQ, SQ, RQ of all, things, stuff and each class), on small synthetic
sets; the COCO-scale run is tools/analysis_tools/benchmark_coco_eval.py."""

import numpy as np
import pytest

from pvtv2_dense.errors import ConfigError
from pvtv2_dense.evaluation.coco_backends import BACKENDS, backend_classes, coco_stats, load_gt
from pvtv2_dense.evaluation.eval_benchmark import benchmark_ap, markdown_table
from pvtv2_dense.evaluation.pq_backends import (
    pq_hotcoco,
    pq_max_difference,
    pq_panopticapi,
    resolve_nproc,
)
from pvtv2_dense.evaluation.synthetic_panoptic import make_panoptic_results
from pvtv2_dense.evaluation.synthetic_results import make_detection_results


@pytest.fixture(scope='module')
def det_set():
    return make_detection_results(num_images=40, dets_per_image=40, num_classes=6, seed=3)


@pytest.fixture(scope='module')
def pan_set(tmp_path_factory):
    return make_panoptic_results(str(tmp_path_factory.mktemp('pq')), num_images=40, seed=3)


@pytest.mark.parametrize('iou_type', ['bbox', 'segm'])
def test_ap_backends_give_pycocotools_numbers(det_set, iou_type):
    gt, bbox, segm = det_set
    results = bbox if iou_type == 'bbox' else segm
    ref = coco_stats('pycocotools', load_gt('pycocotools', gt), results, iou_type)
    # A set where everything scores 0 or 1 would make any evaluator look right.
    assert 0.05 < ref[0] < 0.95 and (ref > 0).all()
    for backend in BACKENDS[1:]:
        stats = coco_stats(backend, load_gt(backend, gt), results, iou_type)
        np.testing.assert_allclose(stats, ref, atol=1e-4, err_msg=backend)


def test_a_different_result_set_is_told_apart(det_set):
    gt, bbox, _ = det_set
    worse = [dict(r, score=1 - r['score']) for r in bbox]
    ref = coco_stats('pycocotools', load_gt('pycocotools', gt), bbox, 'bbox')
    other = coco_stats('faster_coco_eval', load_gt('faster_coco_eval', gt), worse, 'bbox')
    assert np.abs(other - ref).max() > 1e-3


def test_pq_backends_give_panopticapi_numbers(pan_set):
    files = [pan_set[k] for k in ('gt_json', 'pred_json', 'gt_folder', 'pred_folder')]
    ref = pq_panopticapi(*files, nproc=1)
    assert 0.3 < ref['All']['pq'] < 0.95 and len(ref['per_class']) == 7
    assert ref['Things']['pq'] < ref['Stuff']['pq']  # wrong classes and drops hit things only
    assert pq_max_difference(ref, pq_panopticapi(*files, nproc=2)) <= 1e-12
    assert pq_max_difference(ref, pq_hotcoco(*files)) <= 1e-4


def test_pq_difference_sees_one_class():
    a = {k: dict(pq=0.5, sq=0.8, rq=0.6) for k in ('All', 'Things', 'Stuff')}
    a['per_class'] = {1: dict(pq=0.5, sq=0.8, rq=0.6), 2: dict(pq=0.4, sq=0.8, rq=0.5)}
    b = dict(a, per_class={1: a['per_class'][1], 2: dict(pq=0.4, sq=0.8, rq=0.51)})
    assert pq_max_difference(a, b) == pytest.approx(0.01)
    assert pq_max_difference(a, dict(a, per_class={1: a['per_class'][1]})) == 1.0


def test_nproc_is_capped_at_the_cores_given():
    assert resolve_nproc(None) >= 1 and resolve_nproc(10_000) == resolve_nproc(None)
    assert resolve_nproc(1) == 1
    for bad in (0, -2, 1.5, True, '2'):
        with pytest.raises(ConfigError, match='nproc'):
            resolve_nproc(bad)


def test_unknown_backend_names_the_choices():
    with pytest.raises(ConfigError, match="did you mean 'pycocotools'"):
        backend_classes('pycocotool')


def test_benchmark_rows_report_equality_and_speed():
    rows = benchmark_ap(num_images=6, dets_per_image=10)
    assert [r[:2] for r in rows[:3]] == [
        ('bbox AP', 'pycocotools'),
        ('bbox AP', 'faster_coco_eval'),
        ('bbox AP', 'hotcoco'),
    ]
    assert all(r[-1] for r in rows) and all(r[2] > 0 for r in rows)
    table = markdown_table(rows)
    assert table.count('\n') == len(rows) + 1 and '| segm AP | hotcoco |' in table
