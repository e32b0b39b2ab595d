"""The synthetic ImageNet-layout set, its reading, and bad classification data named by file."""

import os
import os.path as osp
import shutil

import cv2
import numpy as np
import pytest
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS, TRANSFORMS

from pvtv2_dense.datasets import generate_imagenet
from pvtv2_dense.datasets.synthetic.imagenet import WNIDS
from pvtv2_dense.errors import DataError
from tests.helpers.common import tree_digest

PIPELINE = [dict(type='CheckedLoadImage'), dict(type='PackClsInputs')]


@pytest.fixture(scope='module')
def in1k_root(tmp_path_factory):
    """A tiny synthetic set: 10 classes, 2 training and 1 held-out image each."""
    return generate_imagenet(str(tmp_path_factory.mktemp('in1k')), 2, 1, size=32, seed=3)


@pytest.fixture
def root(in1k_root, tmp_path):
    """A private copy to damage."""
    dst = tmp_path / 'imagenet'
    shutil.copytree(in1k_root, dst)
    return str(dst)


def _infos(dataset):
    return [dataset.get_data_info(i) for i in range(len(dataset))]


def _dataset(root, split='train', ann=True, **kwargs):
    init_default_scope('mmseg')
    return DATASETS.build(
        dict(
            type='ImageNetFolder',
            data_root=root,
            pipeline=PIPELINE,
            ann_file=f'meta/{split}.txt' if ann else '',
            data_prefix=dict(img_path=split),
            **kwargs,
        )
    )


def test_layout_is_imagenets(in1k_root):
    assert sorted(f for f in os.listdir(in1k_root) if f[0] != '.') == ['meta', 'train', 'val']
    assert sorted(os.listdir(osp.join(in1k_root, 'train'))) == list(WNIDS)
    with open(osp.join(in1k_root, 'meta/val.txt')) as f:
        lines = f.read().split('\n')
    assert lines[0].startswith('ILSVRC2012_val_00000001.JPEG ') and lines[-1] == ''
    assert sorted(int(line.split()[1]) for line in lines[:-1]) == list(range(10))


def test_same_seed_same_bytes(in1k_root, tmp_path):
    again = generate_imagenet(str(tmp_path), 2, 1, size=32, seed=3)
    assert tree_digest(again) == tree_digest(in1k_root)


def test_list_and_folders_give_the_same_training_samples(in1k_root):
    listed, scanned = _dataset(in1k_root), _dataset(in1k_root, ann=False)
    assert len(listed) == 20
    pairs = lambda ds: sorted((d['img_path'], int(d['gt_label'])) for d in _infos(ds))  # noqa: E731
    assert pairs(listed) == pairs(scanned)
    assert scanned.metainfo['classes'] == WNIDS
    sample = listed[0]
    assert tuple(sample['inputs'].shape) == (3, 32, 32)
    assert int(sample['data_samples'].gt_label) == int(listed.get_data_info(0)['gt_label'])


def test_class_folder_without_images(root):
    empty = osp.join(root, 'train', WNIDS[4])
    for name in os.listdir(empty):
        os.remove(osp.join(empty, name))
    with pytest.raises(DataError, match=f'class folder {empty} holds no images'):
        _dataset(root, ann=False)


def test_listed_file_that_does_not_exist(root):
    missing = osp.join(root, 'val', 'ILSVRC2012_val_00000003.JPEG')
    os.remove(missing)
    with pytest.raises(DataError, match=f'meta/val.txt line 3 lists {missing}, which does not'):
        _dataset(root, 'val')


def test_label_outside_num_classes(root):
    ann = osp.join(root, 'meta/val.txt')
    with open(ann) as f:
        lines = f.read().split('\n')
    lines[1] = lines[1].rsplit(' ', 1)[0] + ' 10'
    with open(ann, 'w') as f:
        f.write('\n'.join(lines))
    with pytest.raises(DataError, match=r'meta/val.txt line 2: label 10 outside \[0, 10\)'):
        _dataset(root, 'val', num_classes=10)
    assert len(_dataset(root, 'val', num_classes=11)) == 10


def test_line_without_a_label(root):
    ann = osp.join(root, 'meta/val.txt')
    with open(ann, 'a') as f:
        f.write('ILSVRC2012_val_00000002.JPEG\n')
    with pytest.raises(DataError, match='meta/val.txt line 11: .* expected "PATH LABEL"'):
        _dataset(root, 'val')


def test_missing_annotation_file(root):
    os.remove(osp.join(root, 'meta/train.txt'))
    with pytest.raises(DataError, match='annotation file .*meta/train.txt does not exist'):
        _dataset(root)


@pytest.mark.parametrize('content', [b'', b'not a jpeg at all'], ids=['empty', 'garbage'])
def test_unreadable_image(root, content):
    bad = osp.join(root, 'val', 'ILSVRC2012_val_00000005.JPEG')
    with open(bad, 'wb') as f:
        f.write(content)
    dataset = _dataset(root, 'val')
    index = [d['img_path'] for d in _infos(dataset)].index(bad)
    with pytest.raises(DataError, match=f'image {bad} cannot be'):
        dataset[index]
    assert dataset[(index + 1) % len(dataset)]['inputs'].shape[0] == 3


def test_loader_reads_what_cv2_wrote(root):
    path = osp.join(root, 'val', 'ILSVRC2012_val_00000001.JPEG')
    out = TRANSFORMS.build(dict(type='CheckedLoadImage'))(dict(img_path=path))
    np.testing.assert_array_equal(out['img'], cv2.imread(path, cv2.IMREAD_COLOR))
    assert out['ori_shape'] == (32, 32)


def test_class_folder_named_in_classes_but_missing(root):
    classes = (*WNIDS[:2], 'n00000000')
    missing = osp.join(root, 'train', 'n00000000')
    with pytest.raises(DataError, match=f'class folder {missing} does not exist'):
        _dataset(root, ann=False, metainfo=dict(classes=classes))
