"""The synthetic COCO panoptic generator and the checked COCO panoptic dataset and loader."""

import json
import os
import os.path as osp
import shutil

import cv2
import numpy as np
import pytest
from mmdet.datasets import CocoPanopticDataset
from mmdet.registry import DATASETS, TRANSFORMS
from mmengine.registry import init_default_scope
from panopticapi.utils import rgb2id

from pvtv2_dense.datasets import (
    CheckedCocoPanopticDataset,
    PanopticDataError,
    generate_coco_panoptic,
)
from pvtv2_dense.datasets.synthetic.coco_panoptic import CLASSES, STUFF_CLASSES, THING_CLASSES
from tests.helpers.common import tree_digest

METAINFO = dict(classes=CLASSES, thing_classes=THING_CLASSES, stuff_classes=STUFF_CLASSES)
LOAD = dict(type='CheckedLoadPanopticAnnotations')


@pytest.fixture(scope='module')
def pan_root(tmp_path_factory):
    return generate_coco_panoptic(
        str(tmp_path_factory.mktemp('pan')), num_train=6, num_val=3, seed=3
    )


def _dataset(root, cls=CheckedCocoPanopticDataset, split='train', ann_file=None, pipeline=()):
    init_default_scope('mmdet')
    return cls(
        data_root=root,
        ann_file=ann_file or f'annotations/panoptic_{split}2017.json',
        data_prefix=dict(img=f'{split}2017/', seg=f'annotations/panoptic_{split}2017/'),
        metainfo=METAINFO,
        pipeline=[dict(type='LoadImageFromFile'), *pipeline] if pipeline else [],
    )


def test_same_seed_same_bytes(tmp_path):
    a = generate_coco_panoptic(str(tmp_path / 'a'), num_train=3, num_val=2, seed=7)
    b = generate_coco_panoptic(str(tmp_path / 'b'), num_train=3, num_val=2, seed=7)
    c = generate_coco_panoptic(str(tmp_path / 'c'), num_train=3, num_val=2, seed=8)
    assert tree_digest(a) == tree_digest(b) != tree_digest(c)


def test_reused_when_complete(tmp_path):
    root = generate_coco_panoptic(str(tmp_path), num_train=2, num_val=1, seed=0)
    path = osp.join(root, 'annotations', 'panoptic_train2017.json')
    mtime = os.stat(path).st_mtime_ns
    assert generate_coco_panoptic(str(tmp_path), num_train=2, num_val=1, seed=0) == root
    assert os.stat(path).st_mtime_ns == mtime


def test_pngs_hold_exactly_the_json_segments(pan_root):
    with open(osp.join(pan_root, 'annotations', 'panoptic_train2017.json')) as f:
        data = json.load(f)
    things = {c['id'] for c in data['categories'] if c['isthing']}
    assert len(data['annotations']) == 6
    for ann in data['annotations']:
        png = cv2.imread(osp.join(pan_root, 'annotations/panoptic_train2017', ann['file_name']))
        ids = rgb2id(png[..., ::-1])
        segments = {s['id']: s for s in ann['segments_info']}
        assert set(np.unique(ids)) == set(segments)  # every pixel in a segment, no VOID
        for seg_id, seg in segments.items():
            ys, xs = np.nonzero(ids == seg_id)
            assert seg['area'] == len(ys)
            assert seg['bbox'] == [
                xs.min(),
                ys.min(),
                xs.max() - xs.min() + 1,
                ys.max() - ys.min() + 1,
            ]
        cats = [s['category_id'] for s in ann['segments_info']]
        assert any(c in things for c in cats) and any(c not in things for c in cats)


def test_mmdet_reads_it_like_the_checked_dataset(pan_root):
    plain = _dataset(pan_root, cls=CocoPanopticDataset)
    checked = _dataset(pan_root)
    assert len(plain) == len(checked) == 6
    assert [d['segments_info'] for d in plain] == [d['segments_info'] for d in checked]
    # Category ids 101-104 of the JSON become the contiguous labels after the 3 things.
    labels = {s['category'] for d in checked for s in d['segments_info'] if not s['is_thing']}
    assert labels and labels <= {3, 4, 5, 6}
    loaded = _dataset(pan_root, pipeline=[LOAD])[0]
    reference = _dataset(
        pan_root, cls=CocoPanopticDataset, pipeline=[dict(type='LoadPanopticAnnotations')]
    )[0]
    assert np.array_equal(loaded['gt_seg_map'], reference['gt_seg_map'])
    assert np.array_equal(loaded['gt_masks'].masks, reference['gt_masks'].masks)
    assert len(loaded['gt_masks']) == len(loaded['gt_bboxes']) >= 1


def test_registered_for_configs():
    init_default_scope('mmdet')
    assert DATASETS.get('CheckedCocoPanopticDataset') is CheckedCocoPanopticDataset
    assert TRANSFORMS.get('CheckedLoadPanopticAnnotations') is not None


def _broken_json(pan_root, tmp_path, edit):
    with open(osp.join(pan_root, 'annotations', 'panoptic_train2017.json')) as f:
        data = json.load(f)
    edit(data)
    path = tmp_path / 'broken.json'
    path.write_text(json.dumps(data))
    return str(path)


def test_unknown_category_is_named_with_its_png_and_segment(pan_root, tmp_path):
    def edit(data):
        data['annotations'][1]['segments_info'][0]['category_id'] = 77

    path = _broken_json(pan_root, tmp_path, edit)
    with pytest.raises(PanopticDataError) as err:
        _dataset(pan_root, ann_file=path)
    first = str(err.value).splitlines()
    assert path in first[0]
    assert '000000000002.png (image id 2), segment id' in first[1]
    assert 'unknown category_id 77' in first[1]


def test_segment_absent_from_its_png(pan_root, tmp_path):
    def edit(data):
        data['annotations'][0]['segments_info'][0]['id'] = 424242

    path = _broken_json(pan_root, tmp_path, edit)
    dataset = _dataset(pan_root, ann_file=path, pipeline=[LOAD])
    with pytest.raises(PanopticDataError) as err:
        dataset[0]
    msg = str(err.value)
    assert '\n' not in msg
    assert msg.startswith(osp.join(pan_root, 'annotations/panoptic_train2017/000000000001.png'))
    assert 'segment id 424242' in msg and 'absent from the PNG' in msg


def test_png_of_another_size_than_its_image(pan_root, tmp_path):
    root = str(tmp_path / 'copy')
    shutil.copytree(pan_root, root)
    png = osp.join(root, 'annotations/panoptic_train2017/000000000001.png')
    cv2.imwrite(png, cv2.imread(png)[:60])
    with pytest.raises(PanopticDataError) as err:
        _dataset(root, pipeline=[LOAD])[0]
    msg = str(err.value)
    assert msg == f'{png} is 60x64 (HxW) but its image 000000000001.jpg is 64x64'


def test_missing_png_is_named_when_the_dataset_is_built(pan_root, tmp_path):
    root = str(tmp_path / 'copy')
    shutil.copytree(pan_root, root)
    png = osp.join(root, 'annotations/panoptic_train2017/000000000002.png')
    os.remove(png)
    with pytest.raises(PanopticDataError) as err:
        _dataset(root, pipeline=[LOAD])
    msg = str(err.value)
    assert '\n' not in msg and '1 of 6 samples lack their seg_map_path' in msg and png in msg


def test_png_removed_after_the_build_is_named_by_the_loader(pan_root, tmp_path):
    root = str(tmp_path / 'copy')
    shutil.copytree(pan_root, root)
    dataset = _dataset(root, pipeline=[LOAD])
    png = osp.join(root, 'annotations/panoptic_train2017/000000000002.png')
    os.remove(png)
    with pytest.raises(PanopticDataError, match=f'^{png}: no such panoptic PNG'):
        dataset[1]


@pytest.mark.parametrize(
    'edit, expected',
    [
        (lambda d: d['annotations'][0].pop('segments_info'), 'expected a dict with "image_id"'),
        (lambda d: d['annotations'][0].update(image_id=99), 'image_id is not in "images"'),
        (
            lambda d: d['annotations'][0]['segments_info'][0].pop('bbox'),
            "missing field(s) ['bbox']",
        ),
        (
            lambda d: d['annotations'][0]['segments_info'][1].update(
                id=d['annotations'][0]['segments_info'][0]['id']
            ),
            'duplicated segment id',
        ),
        (
            lambda d: d['annotations'][0]['segments_info'][0].update(bbox=[60, 0, 10, 10]),
            'lies outside its 64x64',
        ),
        (lambda d: d['images'][0].pop('height'), "missing field(s) ['height']"),
    ],
    ids=['no-segments', 'unknown-image', 'no-bbox', 'duplicate-id', 'box-outside', 'no-height'],
)
def test_malformed_json_entries(pan_root, tmp_path, edit, expected):
    path = _broken_json(pan_root, tmp_path, edit)
    with pytest.raises(PanopticDataError) as err:
        _dataset(pan_root, ann_file=path)
    assert expected in str(err.value)
