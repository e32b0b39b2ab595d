"""A photo with an EXIF orientation tag is decoded as stored, the way its maps are (issue 33).

The photo is a crop of skimage's astronaut, written as a JPEG tagged with orientation 6 (rotate
90 degrees clockwise to display); its label map, depth map and boxes are derived from the
stored pixels, as a converter or an annotation tool working on the array writes them.
"""

import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine.registry import init_default_scope
from PIL import Image
from skimage import data as skdata

from pvtv2_dense.datasets import CheckedCocoDataset, CheckedNYUDataset, CheckedSegDataset

SIZE = 48
STORED = cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION


def _tagged_jpeg(path, rgb, orientation=6):
    exif = Image.Exif()
    exif[0x0112] = orientation  # Orientation
    Image.fromarray(rgb).save(path, quality=95, exif=exif)


@pytest.fixture(scope='module')
def photo(tmp_path_factory):
    """(path of the tagged JPEG, its stored BGR pixels, the label map of those pixels)."""
    root = tmp_path_factory.mktemp('exif')
    rgb = np.ascontiguousarray(
        skdata.astronaut()[100 : 100 + SIZE * 4 : 4, 150 : 150 + SIZE * 4 : 4]
    )
    path = str(root / 'photo.jpg')
    _tagged_jpeg(path, rgb)
    stored = cv2.imread(path, STORED)
    shown = cv2.imread(path, cv2.IMREAD_COLOR)
    # The tag is real: cv2's default decode turns the picture.
    assert not np.array_equal(stored, shown)
    np.testing.assert_array_equal(np.rot90(stored, -1), shown)
    label = (cv2.cvtColor(stored, cv2.COLOR_BGR2GRAY) > 110).astype(np.uint8)
    assert 0.2 < label.mean() < 0.8  # both classes, in no symmetric layout
    return path, stored, label


def _pair(root, photo, image, label_map, array):
    """Copy the tagged ``photo`` to ``root/image`` and write ``array`` to ``root/label_map``."""
    for rel in (image, label_map):
        os.makedirs(osp.dirname(osp.join(root, rel)), exist_ok=True)
    with open(photo, 'rb') as f, open(osp.join(root, image), 'wb') as g:
        g.write(f.read())
    cv2.imwrite(osp.join(root, label_map), array)


def test_segmentation_image_and_label_map_line_up(photo, tmp_path):
    path, stored, label = photo
    _pair(tmp_path, path, 'img_dir/train/a.jpg', 'ann_dir/train/a.png', label)
    init_default_scope('mmseg')
    ds = CheckedSegDataset(
        data_root=str(tmp_path),
        data_prefix=dict(img_path='img_dir/train', seg_map_path='ann_dir/train'),
        img_suffix='.jpg',
        seg_map_suffix='.png',
        metainfo=dict(classes=('dark', 'bright'), palette=[(0, 0, 0), (255, 255, 255)]),
        pipeline=[
            dict(type='LoadImageFromFile'),  # the configs' loader: 'color' applies EXIF
            dict(type='LoadAnnotations'),
            dict(type='CheckSegAnnotation', num_classes=2),
        ],
    )
    out = ds[0]
    np.testing.assert_array_equal(out['img'], stored)
    np.testing.assert_array_equal(out['gt_seg_map'], label)
    # Pixel by pixel, the label is the one computed from the decoded image.
    relabel = (cv2.cvtColor(out['img'], cv2.COLOR_BGR2GRAY) > 110).astype(np.uint8)
    assert (relabel == out['gt_seg_map']).all()


def test_depth_image_and_depth_map_line_up(photo, tmp_path):
    path, stored, _ = photo
    depth = 500 + cv2.cvtColor(stored, cv2.COLOR_BGR2GRAY).astype(np.uint16) * 10
    names = ('images/train/room_00001.jpg', 'annotations/train/room_00001.png')
    _pair(tmp_path, path, *names, depth)
    init_default_scope('mmseg')
    ds = CheckedNYUDataset(
        data_root=str(tmp_path),
        data_prefix=dict(img_path='images/train', depth_map_path='annotations/train'),
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadCheckedDepthAnnotation', depth_rescale_factor=1e-3),
        ],
    )
    out = ds[0]
    np.testing.assert_array_equal(out['img'], stored)
    gray = cv2.cvtColor(out['img'], cv2.COLOR_BGR2GRAY).astype(np.float32)
    np.testing.assert_allclose(out['gt_depth_map'], (500 + gray * 10) * 1e-3, rtol=1e-6)


def test_detection_image_matches_its_json_size_and_boxes(photo, tmp_path):
    path, stored, label = photo
    # A non-square crop: decoded rotated, it would be 32x48 where the JSON says 48x32.
    crop = stored[:, :32]
    rgb = np.ascontiguousarray(crop[..., ::-1])
    os.makedirs(tmp_path / 'train2017')
    _tagged_jpeg(str(tmp_path / 'train2017/1.jpg'), rgb)
    decoded_stored = cv2.imread(str(tmp_path / 'train2017/1.jpg'), STORED)
    ys, xs = np.nonzero(label[:, :32])
    box = [int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)]
    coco = dict(
        images=[dict(id=1, file_name='1.jpg', width=32, height=SIZE)],
        annotations=[
            dict(id=1, image_id=1, category_id=1, bbox=box, area=box[2] * box[3], iscrowd=0)
        ],
        categories=[dict(id=1, name='bright')],
    )
    os.makedirs(tmp_path / 'annotations')
    with open(tmp_path / 'annotations/train.json', 'w') as f:
        json.dump(coco, f)
    init_default_scope('mmdet')
    ds = CheckedCocoDataset(
        data_root=str(tmp_path),
        ann_file='annotations/train.json',
        data_prefix=dict(img='train2017/'),
        metainfo=dict(classes=('bright',)),
        pipeline=[
            dict(type='LoadImageFromFile', color_type='color'),  # as coco_detection.py
            dict(type='LoadAnnotations', with_bbox=True),
        ],
    )
    out = ds[0]
    assert out['img'].shape[:2] == (SIZE, 32) == (out['height'], out['width'])
    np.testing.assert_array_equal(out['img'], decoded_stored)
