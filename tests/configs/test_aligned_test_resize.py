"""The ADE20K test resize of our SegFormer and Semantic FPN configs is the official AlignedResize.

NVlabs/SegFormer (mmseg/datasets/pipelines/transforms.py, ``AlignedResize``) and whai362/PVTv2-Seg
(``AlignResize``) evaluate ADE20K after two resizes: ``mmcv.imrescale`` of the image to the
(2048, S) scale keeping its ratio (new side = int(side * factor + 0.5), factor = min(2048 / long
side, S / short side)), then a bilinear ``mmcv.imresize`` of that result to each side rounded up
to a multiple of 32. Our configs write it as mmseg's ``Resize`` then ``ResizeToMultiple``; this
checks the sizes against the rule worked by hand and the pixels against the two resizes done
with OpenCV directly.
"""

import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import TRANSFORMS

from tests.helpers.common import ROOT

ADE512 = (
    'configs/segformer/segformer_pvtv2-b0_8xb2-160k_ade20k-512x512.py',
    'configs/segformer/segformer_mit-b0_8xb2-160k_ade20k-512x512.py',
    'configs/sem_fpn/fpn_pvtv2-b0_8xb4-40k_ade20k-512x512.py',
)
ADE640 = 'configs/segformer/segformer_pvtv2-b5_8xb2-160k_ade20k-640x640.py'
GEOMETRY = ('Resize', 'ResizeToMultiple')

# (h, w) of the input -> (h, w) after imrescale to (2048, 512) -> (h, w) aligned, by hand.
SIZES_512 = [
    ((512, 683), (512, 683), (512, 704)),  # factor 1: only the alignment changes it
    ((375, 500), (512, 683), (512, 704)),  # factor 512/375; 500 * 1.3653 = 682.7 -> 683
    ((683, 512), (683, 512), (704, 512)),  # portrait
    ((333, 500), (512, 769), (512, 800)),  # 500 * 512/333 = 768.8 -> 769 -> 800
    ((100, 1500), (137, 2048), (160, 2048)),  # the long side binds: factor 2048/1500
    ((1024, 2048), (512, 1024), (512, 1024)),  # already a multiple of 32: unchanged
]
SIZES_640 = [((512, 683), (640, 854), (640, 864)), ((375, 500), (640, 853), (640, 864))]


def _geometry(config):
    init_default_scope('mmseg')
    pipeline = Config.fromfile(osp.join(ROOT, config)).test_pipeline
    return [TRANSFORMS.build(t) for t in pipeline if t['type'] in GEOMETRY]


def _run(transforms, image):
    results = dict(img=image, img_shape=image.shape[:2], ori_shape=image.shape[:2])
    for transform in transforms:
        results = transform(results)
    return results


def _official(image, rescaled, aligned):
    """The official two bilinear resizes, with OpenCV (which mmcv's imresize calls)."""
    first = cv2.resize(image, rescaled[::-1], interpolation=cv2.INTER_LINEAR)
    return cv2.resize(first, aligned[::-1], interpolation=cv2.INTER_LINEAR)


def _rule(size, scale, divisor=32):
    """The official rule in arithmetic: (rescaled size, aligned size)."""
    factor = min(max(scale) / max(size), min(scale) / min(size))
    rescaled = tuple(int(s * factor + 0.5) for s in size)
    return rescaled, tuple(-(-s // divisor) * divisor for s in rescaled)


@pytest.mark.parametrize(('size', 'rescaled', 'aligned'), SIZES_512 + SIZES_640)
def test_the_hand_worked_sizes_follow_the_official_rule(size, rescaled, aligned):
    scale = (2048, 640) if (size, rescaled, aligned) in SIZES_640 else (2048, 512)
    assert _rule(size, scale) == (rescaled, aligned)


@pytest.mark.parametrize('config', ADE512)
@pytest.mark.parametrize(('size', 'rescaled', 'aligned'), SIZES_512)
def test_ade20k_test_resize_gives_the_official_sizes_and_pixels(config, size, rescaled, aligned):
    image = np.random.default_rng(0).integers(0, 256, (*size, 3), dtype=np.uint8)
    results = _run(_geometry(config), image)
    assert results['img'].shape[:2] == aligned
    assert tuple(results['img_shape']) == aligned
    assert tuple(results['ori_shape']) == size  # predictions are resized back to this
    np.testing.assert_array_equal(results['img'], _official(image, rescaled, aligned))


@pytest.mark.parametrize(('size', 'rescaled', 'aligned'), SIZES_640)
def test_ade20k_640_test_resize_gives_the_official_sizes_and_pixels(size, rescaled, aligned):
    image = np.random.default_rng(1).integers(0, 256, (*size, 3), dtype=np.uint8)
    results = _run(_geometry(ADE640), image)
    np.testing.assert_array_equal(results['img'], _official(image, rescaled, aligned))


def test_mmseg_resize_alone_is_not_aligned():
    """What the check catches: mmseg's configs stop after the first resize."""
    image = np.zeros((375, 500, 3), np.uint8)
    plain = [t for t in _geometry(ADE512[0]) if type(t).__name__ == 'Resize']
    assert _run(plain, image)['img'].shape[:2] == (512, 683)


def test_cityscapes_frames_are_left_as_the_official_test_leaves_them():
    """NVlabs/SegFormer's Cityscapes test has no alignment; its 2048x1024 frames need none."""
    init_default_scope('mmseg')
    config = 'configs/segformer/segformer_pvtv2-b0_8xb1-160k_cityscapes-1024x1024.py'
    pipeline = Config.fromfile(osp.join(ROOT, config)).test_pipeline
    assert 'ResizeToMultiple' not in [t['type'] for t in pipeline]
    transforms = [TRANSFORMS.build(t) for t in pipeline if t['type'] in GEOMETRY]
    image = np.random.default_rng(2).integers(0, 256, (1024, 2048, 3), dtype=np.uint8)
    np.testing.assert_array_equal(_run(transforms, image)['img'], image)
