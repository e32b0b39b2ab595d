"""The diagnostics on saved results of the built-in synthetic sets: each reads a
``tools/test.py --out``-shaped pickle (predictions made from the ground truth with known
mistakes) and writes its PNG and CSV / JSON with the numbers the mistakes imply."""

import csv
import glob
import json
import os.path as osp

import cv2
import numpy as np
import pytest
import torch

from pvtv2_dense.datasets import generate_nyu
from pvtv2_dense.errors import ConfigError, DataError
from pvtv2_dense.evaluation.analysis import (
    analyze_logs,
    analyze_results,
    coco_error_analysis,
    confusion_matrix,
    depth_error_by_range,
    det_per_class,
    panoptic_per_class,
    seg_per_class,
)
from pvtv2_dense.evaluation.synthetic_panoptic import make_panoptic_results
from tests.helpers.analysis import dump_results, is_png, planted_det_results

SEG_CLASSES = ('wall', 'floor', 'disc', 'rectangle', 'triangle')
# The synthetic ADE20K class ids (1-based in the PNGs; 0 = ignored band) in SEG_CLASSES order.
_ADE_IDS = (1, 4, 13, 20, 33)


@pytest.fixture(scope='module')
def seg_results(ade_root, tmp_path_factory):
    """The synthetic ADE20K validation labels; the prediction calls every disc a rectangle
    and is right elsewhere."""
    samples = []
    for path in sorted(glob.glob(osp.join(ade_root, 'annotations/validation/*.png'))):
        raw = cv2.imread(path, cv2.IMREAD_UNCHANGED).astype(np.int64)
        gt = np.full(raw.shape, 255)
        for label, ade_id in enumerate(_ADE_IDS):
            gt[raw == ade_id] = label
        pred = np.where(gt == 2, 3, np.where(gt == 255, 0, gt))
        img = path.replace('annotations', 'images').replace('.png', '.jpg')
        samples.append(
            dict(
                img_path=img,
                pred_sem_seg=dict(data=torch.from_numpy(pred)[None]),
                gt_sem_seg=dict(data=torch.from_numpy(gt)[None]),
            )
        )
    gts = np.stack([s['gt_sem_seg']['data'][0].numpy() for s in samples])
    assert (gts == 2).any() and (gts == 3).any()  # the set has discs and rectangles
    return dump_results(tmp_path_factory.mktemp('seg') / 'preds.pkl', samples), gts


def test_seg_confusion_matrix_counts_the_mistake(seg_results, tmp_path):
    results, gts = seg_results
    matrix, paths = confusion_matrix(results, str(tmp_path), SEG_CLASSES, 'seg')
    assert matrix[2, 2] == 0 and matrix[2, 3] == (gts == 2).sum()
    assert np.count_nonzero(matrix - np.diag(np.diag(matrix))) == 1
    assert is_png(paths['png'])
    with open(paths['csv']) as f:
        rows = list(csv.reader(f))
    assert rows[0][1:] == list(SEG_CLASSES) and int(rows[3][4]) == matrix[2, 3]


def test_seg_per_class_iou(seg_results, tmp_path):
    results, gts = seg_results
    table, paths = seg_per_class(results, str(tmp_path), SEG_CLASSES)
    rect_iou = 100 * (gts == 3).sum() / ((gts == 3).sum() + (gts == 2).sum())
    assert table['disc'] == 0 and table['rectangle'] == pytest.approx(rect_iou)
    assert table['wall'] == 100
    assert is_png(paths['png']) and osp.isfile(paths['csv'])


def test_seg_worst_images_are_drawn(seg_results, tmp_path):
    ranking, paths = analyze_results(seg_results[0], str(tmp_path), topk=2, num_classes=5)
    assert len(ranking) == 2 and ranking[0]['mIoU'] <= ranking[1]['mIoU'] < 1
    assert all(is_png(p) for p in paths[:-1])
    with open(paths[-1]) as f:
        assert json.load(f)['task'] == 'seg'


@pytest.fixture(scope='module')
def det_results(tmp_path_factory):
    return planted_det_results(str(tmp_path_factory.mktemp('det')))


def test_det_confusion_matrix_finds_the_planted_errors(det_results, tmp_path):
    results, _, names, coco = det_results
    matrix, paths = confusion_matrix(results, str(tmp_path), names, 'det')
    objects = len(coco['annotations'])
    assert matrix.shape == (4, 4)
    assert np.trace(matrix[:3, :3]) == objects - 2  # one confused, one missed
    assert matrix[:3, 3].sum() == 1 and matrix[3, :3].sum() == len(coco['images'])
    assert matrix[:3, :3].sum() - np.trace(matrix[:3, :3]) == 1
    assert is_png(paths['png'])


def test_det_per_class_ap_and_error_analysis(det_results, tmp_path):
    results, ann_file, names, _ = det_results
    table, paths = det_per_class(results, str(tmp_path / 'ap'), names, ann_file)
    assert set(table) == set(names) and all(50 < ap <= 100 for ap in table.values())
    assert is_png(paths['png'])
    summary, paths = coco_error_analysis(results, str(tmp_path / 'err'), names, ann_file)
    curves = summary['curves']
    assert curves['C75']['AP'] <= curves['C50']['AP'] <= curves['Loc']['AP'] <= curves['Oth']['AP']
    assert summary['tide']['counts']['Cls'] == 1 and summary['tide']['counts']['Miss'] >= 1
    assert is_png(paths['png']) and osp.isfile(paths['json'])


def test_det_worst_images_are_the_planted_ones(det_results, tmp_path):
    results, _, _, coco = det_results
    ranking, paths = analyze_results(results, str(tmp_path), topk=2)
    # F1 per image: n objects, n + 1 predictions (one false positive), n - 1 right in images
    # 0 (wrong class) and 1 (a miss, so n predictions); the others n right.
    expected = {}
    for k, img in enumerate(coco['images']):
        n = sum(a['image_id'] == img['id'] for a in coco['annotations'])
        right, preds = (n - 1, n + 1) if k == 0 else (n - 1, n) if k == 1 else (n, n + 1)
        expected[img['file_name']] = 2 * right / (n + preds)
    worst = sorted(expected.values())[:2]
    assert [r['F1'] for r in ranking] == pytest.approx(worst)
    assert {osp.basename(r['img_path']) for r in ranking} == {
        img['file_name'] for img in coco['images'][:2]
    }
    assert all(is_png(p) for p in paths[:-1])


def test_depth_error_grows_where_planted(tmp_path):
    root = generate_nyu(str(tmp_path / 'nyu'), num_train=1, num_val=3, seed=1)
    samples = []
    for path in sorted(glob.glob(osp.join(root, 'annotations/test/*.png'))):
        gt = cv2.imread(path, cv2.IMREAD_UNCHANGED).astype(np.float32) / 1000
        pred = np.where(gt >= 3, gt * 1.5, gt * 1.01)  # far pixels 50 % too deep
        samples.append(
            dict(
                img_path=path.replace('annotations', 'images').replace('.png', '.jpg'),
                pred_depth_map=dict(data=torch.from_numpy(pred)[None]),
                gt_depth_map=dict(data=torch.from_numpy(gt)[None]),
            )
        )
    results = dump_results(tmp_path / 'depth.pkl', samples)
    rows, paths = depth_error_by_range(results, str(tmp_path / 'out'), edges=[0, 3, 20])
    assert rows[0]['abs_rel'] == pytest.approx(0.01, abs=1e-4)
    assert rows[1]['abs_rel'] == pytest.approx(0.5, abs=1e-4) and rows[1]['pixels'] > 0
    assert is_png(paths['png']) and osp.isfile(paths['csv'])
    ranking, _ = analyze_results(results, str(tmp_path / 'worst'), topk=1)
    assert ranking[0]['abs_rel'] > 0.01
    with pytest.raises(ConfigError, match='increasing'):
        depth_error_by_range(results, str(tmp_path / 'x'), edges=[3, 1])


def test_panoptic_per_class_pq(tmp_path):
    paths = make_panoptic_results(str(tmp_path / 'pq'), num_images=12, seed=4)
    out = tmp_path / 'run'
    (out).mkdir()
    import shutil

    shutil.copy(paths['pred_json'], out / 'panoptic.json')
    shutil.copytree(paths['pred_folder'], out / 'panoptic')
    table, written = panoptic_per_class(
        str(out), str(tmp_path / 'diag'), paths['gt_json'], paths['gt_folder']
    )
    assert len(table) == 7 and all(0 < v <= 100 for v in table.values())
    with open(written['csv']) as f:
        rows = list(csv.DictReader(f))
    assert {r['kind'] for r in rows} == {'thing', 'stuff'} and is_png(written['png'])


def test_logs_of_two_runs_in_one_plot(tmp_path):
    dirs = []
    for name, scale in (('run_a', 1.0), ('run_b', 0.5)):
        vis = tmp_path / name / '20260101_000000' / 'vis_data'
        vis.mkdir(parents=True)
        lines = [json.dumps(dict(lr=0.1, loss=scale / s, step=s)) for s in (1, 2, 3, 4)]
        lines.append(json.dumps(dict(mIoU=40 * scale, step=4)))
        (vis / 'scalars.json').write_text('\n'.join(lines) + '\n')
        dirs.append(str(tmp_path / name))
    runs, paths = analyze_logs(dirs, str(tmp_path / 'out'))
    assert runs['run_b'][('val', 'mIoU')] == [(4, 20.0)]
    with open(paths['csv']) as f:
        rows = list(csv.DictReader(f))
    assert {r['run'] for r in rows} == {'run_a', 'run_b'} and len(rows) == 10
    assert is_png(paths['png'])
    with pytest.raises(DataError, match="no run logged \\['acc'\\]"):
        analyze_logs(dirs, str(tmp_path / 'o2'), keys=['acc'])
    with pytest.raises(DataError, match='scalars.json'):
        analyze_logs([str(tmp_path)], str(tmp_path / 'o3'))


def test_a_results_file_of_the_wrong_kind_is_refused(seg_results, tmp_path):
    with pytest.raises(DataError, match="no 'pred_instances'"):
        confusion_matrix(seg_results[0], str(tmp_path), SEG_CLASSES, 'det')
    with pytest.raises(DataError, match='no such results file'):
        confusion_matrix(str(tmp_path / 'missing.pkl'), str(tmp_path), SEG_CLASSES)
