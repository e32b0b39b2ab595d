"""GLPDepth's training recipe in the NYU and KITTI configs: augmentation order and full batches.

GLPDepth (vinvino02/GLPDepth, ``BaseDataset.augment_training_data``) pastes the CutDepth strip on
the whole frame, then flips, crops and jitters the colours; its ``train.py`` drops the last
incomplete batch.
"""

import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from pvtv2_dense.datasets import generate_nyu
from tests.helpers.common import ROOT


@pytest.fixture(autouse=True)
def _mmseg_scope():
    """Each test builds in mmseg's scope, whatever ran before it."""
    init_default_scope('mmseg')


NYU = osp.join(ROOT, 'configs/_base_/datasets/nyu_448x576.py')
KITTI = osp.join(ROOT, 'configs/_base_/datasets/kitti_352x704.py')
GLPDEPTH_ORDER = ['VerticalCutDepth', 'RandomFlip', 'RandomCrop', 'DepthPhotometric']


@pytest.mark.parametrize('path', [NYU, KITTI], ids=['nyu', 'kitti'])
def test_augmentations_run_in_glpdepths_order_on_full_batches(path):
    cfg = Config.fromfile(path)
    types = [t['type'] for t in cfg.train_dataloader.dataset.pipeline]
    assert [t for t in types if t in GLPDEPTH_ORDER] == GLPDEPTH_ORDER
    assert cfg.train_dataloader.drop_last is True
    assert not cfg.val_dataloader.get('drop_last', False)  # every test image is evaluated


def test_cutdepth_strip_is_drawn_on_the_whole_frame_then_cropped(tmp_path):
    """A 480x640 NYU frame through the config's own training pipeline.

    The depth grows by 1 cm per column, so the crop's left edge can be read off the cropped
    depth; the strip must be where CutDepth's draws put it on the 640-wide frame, shifted by
    the crop and cut by it, with the depth of the very pixels it covers.
    """
    cfg = Config.fromfile(NYU)
    pipeline = []
    for t in cfg.train_dataloader.dataset.pipeline:
        t = dict(t)
        if t['type'] in ('VerticalCutDepth', 'DepthPhotometric', 'RandomFlip'):
            # Always paste; no jitter or flip, so the strip's values stay readable.
            t['prob'] = 1.0 if t['type'] == 'VerticalCutDepth' else 0.0
        pipeline.append(t)
    h, w = 480, 640
    depth_mm = np.tile(1000 + 10 * np.arange(w, dtype=np.uint16), (h, 1))
    cv2.imwrite(str(tmp_path / 'img.png'), np.zeros((h, w, 3), np.uint8))
    cv2.imwrite(str(tmp_path / 'depth.png'), depth_mm)
    compose = Compose(pipeline)
    crop_w = cfg.crop_size[1]
    cut_by_crop = 0
    for seed in range(12):
        np.random.seed(seed)
        _, a, b = np.random.rand(3)  # CutDepth's draws: apply?, strip start, strip width
        left = int(a * w)
        width = int(max(1, (w - left) * b * 0.75))
        np.random.seed(seed)
        out = compose(
            dict(
                img_path=str(tmp_path / 'img.png'),
                depth_map_path=str(tmp_path / 'depth.png'),
                seg_fields=[],
            )
        )
        img = out['inputs'].numpy()  # (3, 448, 576)
        depth = out['data_samples'].gt_depth_map.data[0].numpy()
        x0 = int(round((float(depth[0, 0]) - 1.0) / 0.01))
        expected = np.zeros(crop_w, bool)
        expected[max(left - x0, 0) : max(left + width - x0, 0)] = True
        np.testing.assert_array_equal((img != 0).any(axis=(0, 1)), expected, err_msg=f'seed {seed}')
        strip = img[0][:, expected]
        np.testing.assert_array_equal(strip, (depth[:, expected] / 10 * 255).astype(np.uint8))
        cut_by_crop += int(expected.sum() < width)
    assert cut_by_crop > 0  # some strips reach past the crop: they were drawn on the frame


def test_training_loader_drops_the_incomplete_batch(tmp_path):
    root = generate_nyu(str(tmp_path), num_train=5, num_val=1, size=(32, 32), seed=0)
    cfg = Config.fromfile(NYU)
    loader_cfg = dict(cfg.train_dataloader, num_workers=0, persistent_workers=False, batch_size=2)
    loader_cfg['dataset'] = dict(loader_cfg['dataset'], data_root=root, pipeline=cfg.test_pipeline)
    loader = Runner.build_dataloader(loader_cfg, seed=0)
    sizes = [len(batch['inputs']) for batch in loader]
    assert sizes == [2, 2]  # 5 frames: the fifth would make a batch of 1
