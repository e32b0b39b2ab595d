"""KITTI end to end: the KITTI GLPN config (KB crop, GLPDepthLR, Garg crop) trained and tested
through tools/train.py and tools/test.py on tiny synthetic frames in the BTS/GLPDepth layout."""

import glob
import json
import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine.config import Config

from pvtv2_dense.datasets import KITTIDepthDataset, generate_kitti
from pvtv2_dense.evaluation.depth_metric import KITTI_CROPS
from tests.helpers.common import DEPTH_METRICS, ROOT, TINY_ARCH, point_loaders_at
from tests.helpers.tools import run_python

KITTI_CFG = osp.join(ROOT, 'configs/glpn/glpn_pvtv2-b0_4xb3-25e_kitti-352x704.py')
WINDOW = (64, 128)  # the KB crop of the tiny frames (352x1216 on KITTI)


@pytest.fixture(scope='module')
def kitti_root(tmp_path_factory):
    return generate_kitti(str(tmp_path_factory.mktemp('kitti')), num_train=4, num_val=2, seed=3)


def _read_depth(path):
    return cv2.imread(path, cv2.IMREAD_UNCHANGED).astype(np.float64) / 256.0


def test_generator_writes_the_bts_layout(kitti_root, tmp_path):
    for split, lines in (('train', 4), ('test', 3)):
        with open(osp.join(kitti_root, f'splits/eigen_{split}_files_with_gt.txt')) as f:
            rows = [line.split() for line in f if line.strip()]
        assert len(rows) == lines and all(len(r) == 3 for r in rows)
        for img, depth, focal in rows:
            assert img.startswith('2011_09_26/2011_09_26_drive_') and '/image_02/data/' in img
            assert osp.isfile(osp.join(kitti_root, 'raw', img)) and float(focal) > 0
            if depth == 'None':
                continue
            assert '/proj_depth/groundtruth/image_02/' in depth
            png = cv2.imread(osp.join(kitti_root, 'gt_depth', depth), cv2.IMREAD_UNCHANGED)
            assert png.dtype == np.uint16 and png.ndim == 2
            assert png.shape[0] >= WINDOW[0] and png.shape[1] >= WINDOW[1]
            metres = png[png > 0] / 256.0
            assert 0.05 < metres.size / png.size < 0.5  # sparse, LiDAR-like
            assert metres.min() > 1.0 and metres.max() < 80.0
            assert not png[: png.shape[0] // 5].any()  # nothing above the LiDAR's field of view
    assert [r[1] for r in rows].count('None') == 1
    # As on KITTI, frame numbers repeat across drives (the two test frames share one).
    tested = [r[0].split('/') for r in rows if r[1] != 'None']
    assert len({p[1] for p in tested}) == 2 and len({p[-1] for p in tested}) == 1
    frame_sizes = {cv2.imread(p).shape for p in glob.glob(f'{kitti_root}/raw/*/*/image_02/data/*')}
    assert len(frame_sizes) == 2  # two drives, a few pixels apart as KITTI's
    # Seeded: the same seed gives the same bytes.
    again = generate_kitti(str(tmp_path), num_train=4, num_val=2, seed=3)
    rel = '2011_09_26_drive_0001_sync/proj_depth/groundtruth/image_02/0000000006.png'
    with open(osp.join(kitti_root, 'gt_depth', rel), 'rb') as a:
        with open(osp.join(again, 'gt_depth', rel), 'rb') as b:
            assert a.read() == b.read()
    test_set = KITTIDepthDataset(
        ann_file='splits/eigen_test_files_with_gt.txt', data_root=kitti_root, lazy_init=False
    )
    assert len(test_set) == 2  # the None line is skipped


def _tiny_kitti_cfg(data_root, work_dir):
    """The b0 KITTI config on the tiny frames: tiny PVTv2, KB window 64x128, 64x64 crops."""
    cfg = Config.fromfile(KITTI_CFG)
    cfg.work_dir = str(work_dir)
    cfg.model.data_preprocessor.size = (WINDOW[0], WINDOW[0])
    cfg.model.backbone.arch = TINY_ARCH
    cfg.model.backbone.init_cfg = None
    cfg.model.decode_head.in_channels = TINY_ARCH['hidden_sizes']
    cfg.model.decode_head.channels = 16
    point_loaders_at(cfg, data_root)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        for step in cfg[loader].dataset.pipeline:
            if step.type == 'KBCrop':
                step.height, step.width = WINDOW
            elif step.type == 'RandomCrop':
                step.crop_size = (WINDOW[0], WINDOW[0])
    cfg.train_dataloader.batch_size = 2
    # Two epochs of 2 iterations: GLPDepthLR ramps up for one epoch and down for the next.
    cfg.train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=2, val_interval=100)
    cfg.param_scheduler[0].end = 2
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', by_epoch=True, interval=2)
    cfg.default_hooks.logger.interval = 1
    cfg.randomness = dict(seed=0)
    return cfg


def _garg_metrics(gt, pred, frame, crop=True):
    """rmse, abs_rel, d1, d2 and d3 on a KB window, with the Garg crop placed in ``frame``
    coordinates.

    ``frame`` = (height, width, top, left) of the image the crop fractions apply to, with the
    window's position in it: the window itself (GLPDepth) or the full frame (BTS).
    """
    full_h, full_w, top, left = frame
    mask = (gt > 1e-3) & (gt < 80.0)
    if crop:
        fy0, fy1, fx0, fx1 = KITTI_CROPS['garg_crop']
        rows, cols = (
            np.arange(full_h)[top : top + gt.shape[0]],
            np.arange(full_w)[left:][: gt.shape[1]],
        )
        mask &= ((rows >= int(fy0 * full_h)) & (rows < int(fy1 * full_h)))[:, None]
        mask &= ((cols >= int(fx0 * full_w)) & (cols < int(fx1 * full_w)))[None]
    g, p = gt[mask], pred[mask]
    ratio = np.maximum(g / p, p / g)
    deltas = [np.mean(ratio < 1.25**k) for k in (1, 2, 3)]
    return (np.sqrt(np.mean((p - g) ** 2)), np.mean(np.abs(p - g) / g), *deltas)


@pytest.mark.slow
def test_kitti_train_and_test_through_the_tools(kitti_root, tmp_path):
    cfg_path = tmp_path / 'tiny_kitti.py'
    _tiny_kitti_cfg(kitti_root, tmp_path / 'work').dump(str(cfg_path))
    work = tmp_path / 'work'
    run_python([osp.join(ROOT, 'tools/train.py'), str(cfg_path), '--work-dir', str(work)], ROOT)
    ckpt = work / 'epoch_2.pth'
    assert ckpt.is_file()
    # The runner converted the epoch schedule: lr per iteration as GLPDepth's (turn = 1 epoch).
    (scalars,) = glob.glob(str(work / '*/vis_data/scalars.json'))
    with open(scalars) as f:
        lrs = [json.loads(line)['lr'] for line in f if '"lr"' in line]
    lo, hi = 3e-5, 1e-4
    expected = [lo, lo + (hi - lo) * 0.5**0.9, hi, hi - (hi - lo) * 0.5**0.9]
    assert lrs == pytest.approx(expected, rel=1e-4)

    show = tmp_path / 'show'
    run_python(
        [
            osp.join(ROOT, 'tools/test.py'),
            str(cfg_path),
            str(ckpt),
            '--work-dir',
            str(work),
            '--show-dir',
            str(show),
        ],
        ROOT,
    )
    metrics = json.loads((work / 'test_metrics.json').read_text())
    assert DEPTH_METRICS <= set(metrics)
    assert all(np.isfinite(metrics[k]) for k in DEPTH_METRICS)

    # Recompute from the saved predictions (uint16, metres x 256, on the KB window) and the
    # ground truth: the reported numbers are those of the Garg crop of the KB window
    # (GLPDepth's convention, the config's crop_reference='window').
    with open(osp.join(kitti_root, 'splits/eigen_test_files_with_gt.txt')) as f:
        rows = [line.split() for line in f if line.split()[1] != 'None']
    cropped, bts, whole = [], [], []
    for img_rel, depth_rel, _ in rows:
        gt = _read_depth(osp.join(kitti_root, 'gt_depth', depth_rel))
        h, w = gt.shape
        frame = (h, w, h - WINDOW[0], (w - WINDOW[1]) // 2)
        gt = gt[frame[2] :, frame[3] : frame[3] + WINDOW[1]]
        pred = _read_depth(str(show / 'depth_png' / img_rel))  # mirrors raw/'s drive folders
        assert pred.shape == WINDOW
        cropped.append(_garg_metrics(gt, pred, (*WINDOW, 0, 0)))
        bts.append(_garg_metrics(gt, pred, frame))
        whole.append(_garg_metrics(gt, pred, frame, crop=False))
    for sub in ('depth_png', 'depth_color'):  # one file per test image, nothing else
        written = sorted(glob.glob(str(show / sub / '**/*.png'), recursive=True))
        assert [osp.relpath(p, show / sub) for p in written] == sorted(r[0] for r in rows)
    rmse, abs_rel, *deltas = np.mean(cropped, axis=0)
    assert metrics['rmse'] == pytest.approx(rmse, rel=1e-3)
    assert metrics['abs_rel'] == pytest.approx(abs_rel, rel=1e-3)
    # Per-image fractions averaged over images; PNG rounding may move a few boundary pixels.
    assert [metrics[k] for k in ('d1', 'd2', 'd3')] == pytest.approx(deltas, abs=2e-3)
    # The frames have ground truth above the Garg crop, so without it, or with the crop placed
    # on the full frame (BTS), the numbers differ.
    for other in (whole, bts):
        other_rmse, other_abs_rel, *_ = np.mean(other, axis=0)
        assert metrics['rmse'] != pytest.approx(other_rmse, rel=5e-3)
        assert metrics['abs_rel'] != pytest.approx(other_abs_rel, rel=5e-3)
