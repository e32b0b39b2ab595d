"""Bad segmentation data fails with errors that name the file at fault."""

import os
import os.path as osp
import shutil

import cv2
import numpy as np
import pytest
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS

from pvtv2_dense.datasets import SegDataError
from pvtv2_dense.errors import ConfigError

PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='CheckSegAnnotation', num_classes=150),
    dict(type='PackSegInputs'),
]


@pytest.fixture
def root(ade_root, tmp_path):
    """A private copy of the tiny ADE20K-layout set (validation split) to damage."""
    dst = tmp_path / 'ADEChallengeData2016'
    shutil.copytree(ade_root, dst)
    return str(dst)


def _dataset(root):
    init_default_scope('mmseg')
    return DATASETS.build(
        dict(
            type='CheckedADE20KDataset',
            data_root=root,
            pipeline=PIPELINE,
            data_prefix=dict(img_path='images/validation', seg_map_path='annotations/validation'),
        )
    )


def _files(root, i=1):
    name = f'ADE_val_{i:08d}'
    return (
        osp.join(root, 'images/validation', name + '.jpg'),
        osp.join(root, 'annotations/validation', name + '.png'),
    )


def test_clean_data_loads(root):
    ds = _dataset(root)
    assert len(ds) == 4
    sample = ds[0]
    assert sample['data_samples'].gt_sem_seg.data.shape[-2:] == sample['inputs'].shape[-2:]


def test_missing_annotation(root):
    img, ann = _files(root, 2)
    os.remove(ann)
    with pytest.raises(SegDataError, match='no annotation') as err:
        _dataset(root).full_init()
    assert img in str(err.value) and ann in str(err.value)


def test_wrong_size_annotation(root):
    _, ann = _files(root)
    label = cv2.imread(ann, cv2.IMREAD_UNCHANGED)
    cv2.imwrite(ann, label[:-8])
    with pytest.raises(SegDataError, match=r'56x64 \(HxW\) but its image') as err:
        _dataset(root)[0]
    assert ann in str(err.value)


def test_label_outside_class_range(root):
    _, ann = _files(root)
    label = cv2.imread(ann, cv2.IMREAD_UNCHANGED)
    label[0, 0] = 200  # ADE20K has 150 classes; 0 is "other", 255 would be ignored
    cv2.imwrite(ann, label)
    with pytest.raises(SegDataError, match=r'\[199\] \(\[200\] in the file') as err:
        _dataset(root)[0]
    assert ann in str(err.value)


def test_ignore_index_is_allowed(root):
    _, ann = _files(root)
    label = cv2.imread(ann, cv2.IMREAD_UNCHANGED)
    label[0, 0] = 255
    cv2.imwrite(ann, label)
    assert (_dataset(root)[0]['data_samples'].gt_sem_seg.data == 255).any()


@pytest.mark.parametrize('content', [b'', b'not a jpeg at all'], ids=['empty', 'garbage'])
def test_unreadable_image(root, content):
    img, _ = _files(root)
    with open(img, 'wb') as f:
        f.write(content)
    with pytest.raises(SegDataError) as err:
        _dataset(root)[0]
    assert img in str(err.value)


def test_no_images(tmp_path):
    (tmp_path / 'images/validation').mkdir(parents=True)
    (tmp_path / 'annotations/validation').mkdir(parents=True)
    with pytest.raises(SegDataError, match='no images'):
        _dataset(str(tmp_path)).full_init()


def test_check_needs_a_class_count():
    from pvtv2_dense.datasets import CheckSegAnnotation

    with pytest.raises(ConfigError, match='num_classes'):
        CheckSegAnnotation(num_classes=0)
    np.testing.assert_equal(CheckSegAnnotation(3).num_classes, 3)


def test_check_lets_inference_through_but_not_an_unloaded_annotation():
    from pvtv2_dense.datasets import CheckSegAnnotation

    check = CheckSegAnnotation(num_classes=3)
    image_only = dict(img=np.zeros((4, 4, 3), np.uint8), ori_shape=(4, 4))
    assert check(dict(image_only)) == image_only  # inference: nothing to check
    with pytest.raises(SegDataError, match='a.png: no label map loaded'):
        check(dict(image_only, seg_map_path='a.png'))
