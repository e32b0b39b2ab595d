"""Depth end to end: tools/train.py + tools/test.py on tiny synthetic NYU data, and a learning
test (a tiny GLPN fits a handful of synthetic scenes)."""

import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from pvtv2_dense.datasets import generate_nyu
from pvtv2_dense.datasets.synthetic.nyu import render_scene
from tests.helpers.common import DEPTH_METRICS, ROOT, TINY_ARCH
from tests.helpers.tools import run_python

QUICKSTART = osp.join(ROOT, 'configs/quickstart/glpn_pvtv2-b0_1xb8-1000iter_synthetic-nyu-64x64.py')

TINY_CFG = """
_base_ = [{base!r}]
data_root = {root!r}
model = dict(backbone=dict(arch=dict(_delete_=True, **{arch!r})),
             decode_head=dict(in_channels={widths!r}, channels=16))
train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                        dataset=dict(data_root=data_root))
val_dataloader = dict(num_workers=0, persistent_workers=False, dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
train_cfg = dict(max_iters=4, val_interval=1000)
param_scheduler = []
default_hooks = dict(checkpoint=dict(interval=4), logger=dict(interval=1))
"""


def _read_mm(path):
    return cv2.imread(str(path), cv2.IMREAD_UNCHANGED).astype(np.float64) / 1000.0


def _nyu_metrics(gt, pred):
    """d1, d2, d3, abs_rel and rmse of one frame on its valid pixels (the config's 1e-3 .. 10 m)."""
    mask = (gt > 1e-3) & (gt < 10.0)
    g, p = gt[mask], pred[mask]
    ratio = np.maximum(g / p, p / g)
    deltas = [np.mean(ratio < 1.25**k) for k in (1, 2, 3)]
    return (*deltas, np.mean(np.abs(p - g) / g), np.sqrt(np.mean((p - g) ** 2)))


@pytest.mark.slow
def test_train_and_test_through_the_tools(tmp_path):
    root = generate_nyu(str(tmp_path / 'data'), num_train=4, num_val=2, seed=5)
    cfg = tmp_path / 'tiny_depth.py'
    cfg.write_text(
        TINY_CFG.format(
            base=QUICKSTART, root=root, arch=TINY_ARCH, widths=TINY_ARCH['hidden_sizes']
        )
    )
    work = tmp_path / 'work'
    run_python([osp.join(ROOT, 'tools/train.py'), str(cfg), '--work-dir', str(work)], ROOT)
    ckpt = work / 'iter_4.pth'
    assert ckpt.is_file()
    show = tmp_path / 'show'
    run_python(
        [
            osp.join(ROOT, 'tools/test.py'),
            str(cfg),
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
    # NYU's image folder is flat: one prediction per test image, named after it, no sub-folders.
    stems = sorted(osp.splitext(f)[0] + '.png' for f in os.listdir(osp.join(root, 'images/test')))
    for sub in ('depth_png', 'depth_color'):
        assert sorted(os.listdir(show / sub)) == stems and len(stems) == 2
    # Recompute from the saved predictions and the ground truth (both uint16 mm): the reported
    # numbers are per-image metrics on the whole frame's valid pixels, averaged over images.
    recomputed = np.mean(
        [
            _nyu_metrics(
                _read_mm(osp.join(root, 'annotations/test', name)),
                _read_mm(show / 'depth_png' / name),
            )
            for name in stems
        ],
        axis=0,
    )
    reported = [metrics[k] for k in ('d1', 'd2', 'd3', 'abs_rel', 'rmse')]
    assert reported[:3] == pytest.approx(recomputed[:3], abs=2e-3)  # a pixel is 1/4096
    assert reported[3:] == pytest.approx(recomputed[3:], rel=2e-3)  # PNGs hold whole mm
    pngs = sorted((show / 'depth_png').glob('*.png'))
    depth = cv2.imread(str(pngs[0]), cv2.IMREAD_UNCHANGED)
    assert depth.dtype == np.uint16 and depth.shape == (64, 64) and depth.max() > 0


@pytest.mark.slow
def test_tiny_glpn_fits_a_handful_of_scenes():
    """4 scenes, 100 Adam steps: abs_rel on them must fall from ~0.4 to <= 0.1."""
    init_default_scope('mmseg')
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    scenes = [render_scene(rng, (64, 64)) for _ in range(4)]
    imgs = torch.stack(
        [torch.from_numpy(img[..., ::-1].copy()).permute(2, 0, 1) for img, _ in scenes]
    )
    imgs = (imgs.float() - 128.0) / 64.0
    gts = torch.stack([torch.from_numpy(depth)[None] for _, depth in scenes])
    samples = []
    for gt in gts:
        sample = SegDataSample(metainfo=dict(img_shape=(64, 64), ori_shape=(64, 64)))
        sample.gt_depth_map = PixelData(data=gt)
        samples.append(sample)
    model = MODELS.build(
        dict(
            type='DepthEstimator',
            backbone=dict(type='PVTv2', arch=TINY_ARCH),
            decode_head=dict(type='GLPNHead', in_channels=TINY_ARCH['hidden_sizes'], channels=16),
        )
    )
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)

    def abs_rel():
        model.eval()
        with torch.no_grad():
            pred = model._forward(imgs)
        valid = gts > 0
        return ((pred - gts).abs() / gts)[valid].mean().item()

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny tensors: threading costs more than it gives on 2 cores
    try:
        before = abs_rel()
        for _ in range(100):
            model.train()
            loss = model.loss(imgs, samples)['decode.loss_silog']
            opt.zero_grad()
            loss.backward()
            opt.step()
        after = abs_rel()
    finally:
        torch.set_num_threads(threads)
    assert before > 0.2, before
    assert after <= 0.1, (before, after)
