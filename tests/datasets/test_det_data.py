"""The synthetic COCO-layout generator and the checked COCO dataset (annotation validation)."""

import json
import os
import os.path as osp

import pytest
from mmdet.datasets import CocoDataset
from mmdet.registry import DATASETS
from mmengine.registry import init_default_scope

from pvtv2_dense.datasets import AnnotationError, CheckedCocoDataset, generate_coco
from pvtv2_dense.datasets.synthetic.coco import CLASSES
from tests.helpers.common import tree_digest


@pytest.fixture(scope='module')
def coco_root(tmp_path_factory):
    return generate_coco(str(tmp_path_factory.mktemp('coco')), num_train=6, num_val=3, seed=3)


def _dataset(root, ann_file, cls=CheckedCocoDataset, split='train', **kwargs):
    init_default_scope('mmdet')
    return cls(
        data_root=root,
        ann_file=ann_file,
        data_prefix=dict(img=f'{split}2017/'),
        metainfo=dict(classes=CLASSES),
        filter_cfg=dict(filter_empty_gt=False),
        pipeline=[],
        **kwargs,
    )


def test_same_seed_same_bytes(tmp_path):
    a = generate_coco(str(tmp_path / 'a'), num_train=3, num_val=2, seed=7)
    b = generate_coco(str(tmp_path / 'b'), num_train=3, num_val=2, seed=7)
    c = generate_coco(str(tmp_path / 'c'), num_train=3, num_val=2, seed=8)
    assert tree_digest(a) == tree_digest(b) != tree_digest(c)


def test_reused_when_complete(tmp_path):
    root = generate_coco(str(tmp_path), num_train=2, num_val=1, seed=0)
    path = osp.join(root, 'annotations', 'instances_train2017.json')
    mtime = os.stat(path).st_mtime_ns
    assert generate_coco(str(tmp_path), num_train=2, num_val=1, seed=0) == root
    assert os.stat(path).st_mtime_ns == mtime


def test_layout_is_valid_for_mmdet(coco_root):
    for split, count in (('train', 6), ('val', 3)):
        ann_file = f'annotations/instances_{split}2017.json'
        with open(osp.join(coco_root, ann_file)) as f:
            data = json.load(f)
        assert [c['name'] for c in data['categories']] == list(CLASSES)
        for ann in data['annotations']:
            assert {'id', 'image_id', 'category_id', 'bbox', 'area', 'iscrowd'} <= set(ann)
            x, y, w, h = ann['bbox']
            assert 0 <= x and 0 <= y and x + w <= 64 and y + h <= 64 and w >= 1 and h >= 1
        # mmdet's own dataset class reads it, and every annotation becomes an instance.
        plain = _dataset(coco_root, ann_file, cls=CocoDataset, split=split)
        assert len(plain) == count
        assert sum(len(plain[i]['instances']) for i in range(count)) == len(data['annotations'])
        for i in range(count):
            assert osp.isfile(plain[i]['img_path'])
        checked = _dataset(coco_root, ann_file, split=split)
        assert [d['instances'] for d in checked] == [d['instances'] for d in plain]


def test_dataset_is_registered_for_configs():
    init_default_scope('mmdet')
    assert DATASETS.get('CheckedCocoDataset') is CheckedCocoDataset


def _write_broken(coco_root, tmp_path, edit):
    with open(osp.join(coco_root, 'annotations', 'instances_train2017.json')) as f:
        data = json.load(f)
    edit(data)
    path = tmp_path / 'broken.json'
    path.write_text(json.dumps(data))
    return str(path)


def _missing_bbox(data):
    del data['annotations'][1]['bbox']


def _box_outside(data):
    data['annotations'][1]['bbox'] = [50.0, 10.0, 30.0, 20.0]  # x + w = 80 > 64


def _unknown_category(data):
    data['annotations'][1]['category_id'] = 99


def _missing_area(data):
    del data['annotations'][1]['area']


def _unknown_image(data):
    data['annotations'][1]['image_id'] = 12345


@pytest.mark.parametrize(
    'edit,expected',
    [
        (_missing_bbox, "missing field(s) ['bbox']"),
        (_box_outside, 'outside its image'),
        (_unknown_category, 'unknown category_id 99'),
        (_missing_area, "missing field(s) ['area']"),
        (_unknown_image, 'image_id 12345'),
    ],
    ids=['missing-bbox', 'box-outside', 'unknown-category', 'missing-area', 'unknown-image'],
)
def test_malformed_annotation_names_file_and_id(coco_root, tmp_path, edit, expected):
    path = _write_broken(coco_root, tmp_path, edit)
    with open(path) as f:
        ann_id = json.load(f)['annotations'][1]['id']
    with pytest.raises(AnnotationError) as err:
        _dataset(coco_root, path)
    message = str(err.value)
    assert path in message
    assert f'annotation id {ann_id}:' in message
    assert expected in message


def test_missing_image_field_and_unknown_class(coco_root, tmp_path):
    path = _write_broken(coco_root, tmp_path, lambda d: d['images'][0].pop('width'))
    with pytest.raises(AnnotationError, match=r"image id 1: missing field\(s\) \['width'\]"):
        _dataset(coco_root, path)
    ann = osp.join(coco_root, 'annotations', 'instances_train2017.json')
    with pytest.raises(AnnotationError, match=r"classes \['dog'\]"):
        init_default_scope('mmdet')
        CheckedCocoDataset(
            data_root=coco_root, ann_file=ann, metainfo=dict(classes=('disc', 'dog')), pipeline=[]
        )


def test_slightly_overshooting_box_is_accepted(coco_root, tmp_path):
    """Real COCO boxes overshoot their image by rounding; that stays valid."""

    def edit(data):
        x, y, w, h = data['annotations'][0]['bbox']
        data['annotations'][0]['bbox'] = [x, y, 64.5 - x, h]

    _dataset(coco_root, _write_broken(coco_root, tmp_path, edit))
