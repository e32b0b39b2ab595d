"""Depth data: synthetic NYU generator, checked loading, augmentations, KB crop, metric crops,
the prediction writer, flip TTA and the NYU labeled .mat converter."""

import glob
import os.path as osp
import subprocess
import sys
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config, ConfigDict
from mmengine.dataset import Compose
from mmengine.evaluator import Evaluator
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.datasets import NYUDataset
from mmseg.structures import SegDataSample

from pvtv2_dense.datasets import KITTIDepthDataset, generate_nyu
from pvtv2_dense.datasets.transforms import (
    DepthAnnotationError,
    DepthPhotometric,
    KBCrop,
    LoadCheckedDepthAnnotation,
    VerticalCutDepth,
)
from pvtv2_dense.engine import DepthPredictionWriterHook
from pvtv2_dense.errors import ConfigError, DataError
from pvtv2_dense.evaluation import CroppedDepthMetric
from tests.helpers.bad_data_workspace import write_labeled_mat
from tests.helpers.common import ROOT, tree_digest


@pytest.fixture(autouse=True)
def _mmseg_scope():
    """Each test builds in mmseg's scope, whatever ran before it."""
    init_default_scope('mmseg')


def test_generator_is_deterministic_and_readable_by_mmseg(tmp_path):
    a = generate_nyu(str(tmp_path / 'a'), num_train=3, num_val=2, seed=3)
    b = generate_nyu(str(tmp_path / 'b'), num_train=3, num_val=2, seed=3)
    c = generate_nyu(str(tmp_path / 'c'), num_train=3, num_val=2, seed=4)
    assert tree_digest(a) == tree_digest(b) != tree_digest(c)
    pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadCheckedDepthAnnotation', depth_rescale_factor=1e-3),
    ]
    ds = NYUDataset(
        data_root=a,
        data_prefix=dict(img_path='images/train', depth_map_path='annotations/train'),
        pipeline=pipeline,
    )
    assert len(ds) == 3
    item = ds[0]
    depth = item['gt_depth_map']
    assert item['img'].shape == (64, 64, 3) and depth.shape == (64, 64)
    assert 0.5 < depth[depth > 0].min() and depth.max() < 10.0  # metres, NYU's range
    assert item['category_id'] >= 0  # file names carry NYU scene types


def _load(tmp_path, depth, img_shape=(8, 10)):
    path = str(tmp_path / 'd.png')
    cv2.imwrite(path, depth)
    results = dict(depth_map_path=path, img=np.zeros((*img_shape, 3), np.uint8), seg_fields=[])
    return LoadCheckedDepthAnnotation(depth_rescale_factor=1e-3)(results)


def test_checked_loading_scales_16bit_depth(tmp_path):
    depth = np.full((8, 10), 1500, np.uint16)
    out = _load(tmp_path, depth)
    assert out['gt_depth_map'].dtype == np.float32
    np.testing.assert_allclose(out['gt_depth_map'], 1.5)
    assert 'gt_depth_map' in out['seg_fields']


@pytest.mark.parametrize(
    'depth, img_shape, match',
    [
        (np.full((8, 10), 200, np.uint8), (8, 10), '8-bit'),
        (np.full((8, 10, 3), 900, np.uint16), (8, 10), '3 channels'),
        (np.full((8, 10), 900, np.uint16), (9, 10), r'10x8 \(WxH\).*10x9'),
        (np.zeros((8, 10), np.uint16), (8, 10), 'every pixel is 0'),
    ],
    ids=['8bit', 'rgb', 'wrong-size', 'all-invalid'],
)
def test_bad_depth_maps_name_the_file(tmp_path, depth, img_shape, match):
    with pytest.raises(DepthAnnotationError, match=match) as err:
        _load(tmp_path, depth, img_shape)
    assert 'd.png' in str(err.value)


def test_undecodable_depth_map(tmp_path):
    path = tmp_path / 'd.png'
    path.write_bytes(b'not a png')
    with pytest.raises(DepthAnnotationError, match='cannot be decoded'):
        LoadCheckedDepthAnnotation()(dict(depth_map_path=str(path), seg_fields=[]))


def test_vertical_cutdepth_pastes_scaled_depth_in_a_strip():
    np.random.seed(0)
    img = np.full((16, 32, 3), 7, np.uint8)
    depth = np.tile(np.linspace(0, 10, 32, dtype=np.float32), (16, 1))
    out = VerticalCutDepth(prob=1.0, p=0.75, max_depth=10.0)(
        dict(img=img.copy(), gt_depth_map=depth.copy())
    )
    changed = np.where((out['img'] != 7).any(axis=(0, 2)))[0]
    assert changed.size >= 1 and np.all(np.diff(changed) == 1)  # one contiguous full-height strip
    cols = slice(changed[0], changed[-1] + 1)
    expected = (depth[:, cols] / 10 * 255).astype(np.uint8)
    np.testing.assert_array_equal(out['img'][:, cols, 0], expected)
    np.testing.assert_array_equal(out['gt_depth_map'], depth)  # depth untouched
    none = VerticalCutDepth(prob=0.0)(dict(img=img.copy(), gt_depth_map=depth))
    np.testing.assert_array_equal(none['img'], img)


def test_depth_augment_checks_name_the_option_or_the_image():
    with pytest.raises(ConfigError, match=r'need 0 <= prob <= 1 and 0 < p <= 1, got 2'):
        VerticalCutDepth(prob=2)
    with pytest.raises(ConfigError, match='VerticalCutDepth needs gt_depth_map'):
        VerticalCutDepth(prob=1.0)(dict(img=np.zeros((4, 4, 3), np.uint8)))
    with pytest.raises(ConfigError, match=r'gamma must be \(low, high\) > 0'):
        DepthPhotometric(gamma=(0, 1))
    gray = dict(img=np.zeros((4, 4), np.uint8), img_path='gray.png')
    with pytest.raises(DataError, match=r'gray.png: DepthPhotometric expects a BGR image'):
        DepthPhotometric(prob=1.0)(gray)


def test_photometric_changes_only_the_image():
    np.random.seed(1)
    rng = np.random.default_rng(0)
    img = rng.integers(30, 220, (16, 16, 3), dtype=np.uint8)
    depth = rng.uniform(1, 5, (16, 16)).astype(np.float32)
    out = DepthPhotometric(prob=1.0)(dict(img=img.copy(), gt_depth_map=depth.copy()))
    assert out['img'].shape == img.shape and out['img'].dtype == np.uint8
    assert np.abs(out['img'].astype(int) - img).mean() > 1
    np.testing.assert_array_equal(out['gt_depth_map'], depth)


def test_kb_crop_cuts_image_and_depth_alike():
    img = np.arange(375 * 1242 * 3, dtype=np.uint32).reshape(375, 1242, 3)
    depth = img[..., 0].astype(np.float32)
    out = KBCrop()(dict(img=img, gt_depth_map=depth, seg_fields=['gt_depth_map']))
    assert out['img'].shape[:2] == out['gt_depth_map'].shape == (352, 1216)
    assert out['kb_frame'] == (375, 1242, 23, 13)
    np.testing.assert_array_equal(out['gt_depth_map'], out['img'][..., 0])
    with pytest.raises(DataError, match='smaller than'):
        KBCrop()(dict(img=np.zeros((300, 1000, 3)), seg_fields=[]))


def _metric_results(metric, gt, pred, **meta):
    metric.results = []
    metric.process({}, [dict(pred_depth_map=dict(data=pred), gt_depth_map=dict(data=gt), **meta)])
    return metric.compute_metrics(metric.results)


def test_metric_reports_every_metric_and_applies_the_garg_crop():
    gt = torch.full((1, 375, 1242), 10.0)
    pred = gt.clone()
    pred[..., :100, :] = 20.0  # wrong only above the Garg crop (top 40.8% of the frame)
    whole = _metric_results(CroppedDepthMetric(max_depth_eval=80), gt, pred)
    assert set(whole) == set(CroppedDepthMetric.METRICS)
    assert whole['d1'] < 0.8
    for reference in ('window', 'frame'):  # without kb_frame the map is the frame
        metric = CroppedDepthMetric(
            max_depth_eval=80, crop_type='garg_crop', crop_reference=reference
        )
        garg = _metric_results(metric, gt, pred)
        assert garg['d1'] == 1.0 and garg['abs_rel'] == 0.0


def _evaluated_pixels(kitti_cfg, frame_dir, crop_reference):
    """(rows, columns, count) of the KB-window pixels that the KITTI test config evaluates.

    A 375x1242 frame goes through the config's own test pipeline (real PNG files, KBCrop,
    PackSegInputs) and evaluator; the prediction encodes each pixel's index in its value, so the
    values the metric keeps name the pixels it keeps.
    """
    compose = Compose(kitti_cfg.test_pipeline)
    packed = compose(
        dict(
            img_path=str(frame_dir / 'img.png'),
            depth_map_path=str(frame_dir / 'depth.png'),
            seg_fields=[],
        )
    )
    sample = packed['data_samples']
    h, w = sample.gt_depth_map.data.shape[-2:]
    index = torch.arange(h * w, dtype=torch.float64).reshape(1, h, w)
    sample.pred_depth_map = PixelData(data=1.0 + index * 1e-4)  # 1 .. 43.8 m, exact in float64
    sample.gt_depth_map = PixelData(data=sample.gt_depth_map.data.double())
    evaluator = Evaluator(dict(kitti_cfg.test_evaluator, crop_reference=crop_reference))
    evaluator.process([sample], dict(inputs=[packed['inputs']]))
    ((_, kept),) = evaluator.metrics[0].results
    kept = torch.round((kept - 1.0) * 1e4).long()
    return sorted(set((kept // w).tolist())), sorted(set((kept % w).tolist())), kept.numel()


def test_kitti_garg_crop_keeps_the_exact_pixels_of_each_convention(tmp_path):
    kitti_cfg = Config.fromfile(osp.join(ROOT, 'configs/_base_/datasets/kitti_352x704.py'))
    assert kitti_cfg.test_evaluator.crop_reference == 'window'  # the GLPN KITTI recipe
    cv2.imwrite(str(tmp_path / 'img.png'), np.full((375, 1242, 3), 90, np.uint8))
    cv2.imwrite(str(tmp_path / 'depth.png'), np.full((375, 1242), 10 * 256, np.uint16))
    # GLPDepth (test.py's cropping_img): fractions of the 352x1216 KB window.
    rows, cols, count = _evaluated_pixels(kitti_cfg, tmp_path, 'window')
    assert (rows[0], rows[-1], cols[0], cols[-1]) == (143, 348, 43, 1171)
    assert count == len(rows) * len(cols) == 206 * 1129  # the whole rectangle, nothing else
    # BTS (bts_eval.py): fractions of the 375x1242 frame (rows 153-370, columns 44-1196), seen
    # from the window, whose top-left pixel is frame pixel (23, 13).
    rows, cols, count = _evaluated_pixels(kitti_cfg, tmp_path, 'frame')
    assert (rows[0], rows[-1], cols[0], cols[-1]) == (130, 347, 31, 1183)
    assert count == len(rows) * len(cols) == 218 * 1153


def test_metric_rejects_unknown_names():
    with pytest.raises(ConfigError, match='crop_type'):
        CroppedDepthMetric(crop_type='kitti')
    with pytest.raises(ConfigError, match='crop_reference'):
        CroppedDepthMetric(crop_type='garg_crop', crop_reference='kb')
    with pytest.raises(ConfigError, match='depth_metrics'):
        CroppedDepthMetric(depth_metrics=['d1', 'rms'])
    assert CroppedDepthMetric(depth_metrics=['d1', 'silog']).metrics == ('d1', 'silog')
    with pytest.raises(ConfigError, match='480x640'):
        _metric_results(
            CroppedDepthMetric(crop_type='nyu_crop'), torch.ones(1, 64, 64), torch.ones(1, 64, 64)
        )


def test_writer_hook_saves_16bit_millimetres_and_colour(tmp_path):
    hook = DepthPredictionWriterHook(out_dir=str(tmp_path))
    hook.before_test(None)
    samples = []
    for folder in ('a', 'b'):  # same file name in two folders: both kept
        s = SegDataSample(metainfo=dict(img_path=f'/x/{folder}/room_1.jpg'))
        s.pred_depth_map = PixelData(data=torch.full((1, 4, 5), 2.3456))
        samples.append(s)
    hook.after_test_iter(None, 0, None, samples)
    pngs = sorted(glob.glob(str(tmp_path / 'depth_png' / '*.png')))
    assert [osp.basename(p) for p in pngs] == ['b_room_1.png', 'room_1.png']
    depth = cv2.imread(pngs[1], cv2.IMREAD_UNCHANGED)
    assert depth.dtype == np.uint16 and depth.shape == (4, 5) and (depth == 2346).all()
    colour = cv2.imread(str(tmp_path / 'depth_color' / 'room_1.png'))
    assert colour.shape == (4, 5, 3)
    DepthPredictionWriterHook(out_dir=None).after_test_iter(None, 0, None, samples)  # no-op


def test_writer_hook_names_files_by_path_under_the_test_image_root(tmp_path):
    """Predictions mirror the sub-folders of the test set's image root (KITTI's drives)."""
    root = tmp_path / 'kitti' / 'raw'
    # data_root joined with the default data_prefix (raw, gt_depth); the split is never read.
    dataset = KITTIDepthDataset(
        ann_file='split.txt', data_root=str(tmp_path / 'kitti'), lazy_init=True
    )
    runner = SimpleNamespace(test_dataloader=SimpleNamespace(dataset=dataset))
    drive = '2011_09_26/2011_09_26_drive_{:04d}_sync/image_02/data'
    paths = [
        root / drive.format(1) / '0000000005.png',
        root / drive.format(2) / '0000000005.png',  # the same frame number in another drive
        root / drive.format(2) / '0000000005.jpg',  # still clashes: the folder-prefix guard
        root / 'top.png',
        tmp_path / 'elsewhere' / 'top.png',  # outside the root: its file name, then the guard
    ]
    out = tmp_path / 'out'
    hook = DepthPredictionWriterHook(out_dir=str(out))
    hook.before_test(runner)
    samples = []
    for i, path in enumerate(paths):
        s = SegDataSample(metainfo=dict(img_path=str(path)))
        s.pred_depth_map = PixelData(data=torch.full((1, 2, 3), float(i + 1)))
        samples.append(s)
    hook.after_test_iter(runner, 0, None, samples)
    expected = [
        drive.format(1) + '/0000000005.png',
        drive.format(2) + '/0000000005.png',
        drive.format(2) + '/data_0000000005.png',
        'top.png',
        'elsewhere_top.png',
    ]
    for sub in ('depth_png', 'depth_color'):
        written = glob.glob(str(out / sub / '**/*.png'), recursive=True)
        assert sorted(osp.relpath(p, out / sub) for p in written) == sorted(expected)
    for i, rel in enumerate(expected):  # each file holds its own image's prediction
        assert (
            cv2.imread(str(out / 'depth_png' / rel), cv2.IMREAD_UNCHANGED) == 1000 * (i + 1)
        ).all()
    # A new run starts afresh: the same images get the same names again.
    hook.before_test(runner)
    assert hook._name(str(paths[1])) == drive.format(2) + '/0000000005'


def test_flip_tta_averages_with_the_unflipped_flip():
    from pvtv2_dense.models import DepthTTAModel

    init_default_scope('mmseg')  # as depth configs set it (another test may have left mmdet's)
    tta = DepthTTAModel(
        module=ConfigDict(
            type='DepthEstimator',
            backbone=dict(
                type='PVTv2',
                arch=dict(
                    hidden_sizes=[8, 16, 32, 32],
                    depths=[1, 1, 1, 1],
                    num_attention_heads=[1, 2, 2, 4],
                ),
            ),
            decode_head=dict(type='GLPNHead', in_channels=[8, 16, 32, 32], channels=16),
            data_preprocessor=dict(type='SegDataPreProcessor'),
            test_cfg=dict(mode='whole'),
        )
    )
    tta.eval()
    img = torch.randint(0, 255, (3, 32, 32), dtype=torch.uint8)
    metas = [
        dict(img_shape=(32, 32), ori_shape=(32, 32), flip=f, flip_direction='horizontal')
        for f in (False, True)
    ]
    batch = dict(
        inputs=[[img], [img.flip(-1)]],
        data_samples=[[SegDataSample(metainfo=m)] for m in metas],
    )
    with torch.no_grad():
        merged = tta.test_step(batch)[0].pred_depth_map.data
        model = tta.module
        x = model.data_preprocessor(dict(inputs=[img]))['inputs']
        plain, flipped = model._forward(x), model._forward(x.flip(-1)).flip(-1)
    torch.testing.assert_close(merged, ((plain + flipped) / 2)[0], atol=1e-5, rtol=0)
    assert (plain - flipped).abs().max() > 1e-4  # the flip really changes the prediction


def test_nyu_labeled_mat_converter(tmp_path):
    from scipy.io import savemat

    rgb, depth = write_labeled_mat(tmp_path / 'labeled.mat')
    savemat(tmp_path / 'splits.mat', dict(trainNdxs=np.array([[1], [3]]), testNdxs=np.array([[2]])))
    out = tmp_path / 'nyu'
    tool = osp.join(ROOT, 'tools/dataset_converters/nyu_labeled_mat.py')
    cmd = [
        sys.executable,
        tool,
        str(tmp_path / 'labeled.mat'),
        str(out),
        '--splits',
        str(tmp_path / 'splits.mat'),
    ]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    assert sorted(p.name for p in (out / 'annotations/train').iterdir()) == [
        'kitchen_00001.png',
        'office_00003.png',
    ]
    d = cv2.imread(str(out / 'annotations/test/bedroom_00002.png'), cv2.IMREAD_UNCHANGED)
    assert d.dtype == np.uint16 and d.shape == (12, 16)
    np.testing.assert_array_equal(d, np.round(depth[1] * 1000).astype(np.uint16))
    img = cv2.imread(str(out / 'images/test/bedroom_00002.jpg'))[..., ::-1]
    assert np.abs(img.astype(int) - rgb[1]).mean() < 8  # JPEG, same orientation and channels
    d0 = cv2.imread(str(out / 'annotations/train/kitchen_00001.png'), cv2.IMREAD_UNCHANGED)
    assert d0[0, 0] == 0  # invalid stays invalid
    again = subprocess.run(cmd, capture_output=True, text=True)
    assert again.returncode != 0 and 'exists' in again.stderr  # nothing overwritten silently


@pytest.mark.parametrize('scene', ['../../escaped', 'ABSOLUTE', 'a/b'])
def test_nyu_labeled_mat_scene_names_stay_in_the_output(tmp_path, scene, capsys):
    """Scene names from the .mat become file names: one that leaves the output is refused."""
    import runpy

    scene = str(tmp_path / 'elsewhere' / 'escaped') if scene == 'ABSOLUTE' else scene
    write_labeled_mat(tmp_path / 'labeled.mat', scenes=('kitchen', scene, 'office'))
    out = tmp_path / 'a' / 'b' / 'nyu'
    tool = runpy.run_path(osp.join(ROOT, 'tools/dataset_converters/nyu_labeled_mat.py'))
    with pytest.raises(SystemExit) as done:
        tool['main']([str(tmp_path / 'labeled.mat'), str(out)])
    lines = capsys.readouterr().err.strip().splitlines()
    assert done.value.code == 2 and len(lines) == 1, lines
    assert str(tmp_path / 'labeled.mat') in lines[0] and repr(scene) in lines[0]
    written = sorted(str(p) for p in tmp_path.rglob('*') if p.is_file())
    assert written == [str(tmp_path / 'labeled.mat')]  # nothing written, in or out


def test_checked_depth_loading_lets_inference_through():
    image_only = dict(img=np.zeros((4, 4, 3), np.uint8), seg_fields=[])
    out = LoadCheckedDepthAnnotation()(dict(image_only))
    assert 'gt_depth_map' not in out and out['seg_fields'] == []
    with pytest.raises(FileNotFoundError):  # a sample that names a map still has to have it
        LoadCheckedDepthAnnotation()(dict(image_only, depth_map_path='/nonexistent/d.png'))
