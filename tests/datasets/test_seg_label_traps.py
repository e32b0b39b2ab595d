"""Segmentation label maps that do not mean what the config says stop the dataset build with
one line naming the file and what to set (``CheckedSegDataset``, ``seg_labels``)."""

import os
import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS

from pvtv2_dense.datasets import CheckedSegDataset, SegDataError, generate_seg_folder
from pvtv2_dense.datasets.seg_labels import spread
from pvtv2_dense.errors import ConfigError


def _build(root, classes, pipeline=(), **kwargs):
    init_default_scope('mmseg')
    return DATASETS.build(
        dict(
            type='CheckedSegDataset',
            data_root=root,
            metainfo=dict(classes=classes),
            data_prefix=dict(img_path='img_dir/train', seg_map_path='ann_dir/train'),
            pipeline=list(pipeline),
            **kwargs,
        )
    )


def _rewrite(root, edit):
    ann = osp.join(root, 'ann_dir', 'train')
    for name in sorted(os.listdir(ann)):
        path = osp.join(ann, name)
        cv2.imwrite(path, edit(cv2.imread(path, cv2.IMREAD_UNCHANGED)))
    return osp.join(ann, sorted(os.listdir(ann))[0])


@pytest.fixture
def binary(tmp_path):
    return generate_seg_folder(str(tmp_path / 'binary'), num_classes=2, num_train=3, num_val=1)


@pytest.fixture
def four(tmp_path):
    return generate_seg_folder(str(tmp_path / 'four'), num_classes=4, num_train=3, num_val=1)


def _one_line(err):
    msg = str(err.value)
    assert '\n' not in msg
    return msg


def test_clean_sets_load_and_train_samples_pack(binary, four):
    pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadAnnotations'),
        dict(type='CheckSegAnnotation', num_classes=2),
        dict(type='PackSegInputs'),
    ]
    ds = _build(binary, ('bg', 'fg'), pipeline)
    assert len(ds) == 3 and isinstance(ds, CheckedSegDataset)
    assert set(np.unique(ds[0]['data_samples'].gt_sem_seg.data.numpy())) <= {0, 1}
    assert len(_build(four, ('bg', 'disc', 'rectangle', 'triangle'))) == 3


def test_binary_masks_saved_as_0_255(binary):
    first = _rewrite(binary, lambda m: m * 255)
    with pytest.raises(SegDataError) as err:
        _build(binary, ('bg', 'fg'))
    msg = _one_line(err)
    assert msg.startswith(f'annotation {first} holds only 0 and 255')
    assert msg.endswith('(mask // 255)')


def test_reduce_zero_label_on_0_1_masks(binary):
    with pytest.raises(SegDataError) as err:
        _build(binary, ('bg', 'fg'), reduce_zero_label=True)
    assert 'is a 0/1 mask' in _one_line(err)
    assert _one_line(err).endswith('set reduce_zero_label=False (0 = background, 1 = foreground)')


def test_too_few_classes_for_the_labels(four):
    with pytest.raises(SegDataError) as err:
        _build(four, ('bg', 'disc', 'rectangle'))
    msg = _one_line(err)
    assert 'holds label value(s) [3]; expected 0..2 or the ignore index 255' in msg
    assert msg.endswith('or set reduce_zero_label=True if 0 marks unlabelled pixels')


def test_labels_above_the_classes_with_reduce_zero_label(four):
    # Files hold 0..3 with 0 = unlabelled: three classes 1..3 fit, two do not.
    assert len(_build(four, ('disc', 'rectangle', 'triangle'), reduce_zero_label=True)) == 3
    with pytest.raises(SegDataError) as err:
        _build(four, ('disc', 'rectangle'), reduce_zero_label=True)
    assert '[2] ([3] in the file, before reduce_zero_label); expected 0..1' in _one_line(err)


def test_colour_mask_instead_of_indices(binary):
    first = _rewrite(binary, lambda m: cv2.cvtColor(m * 200, cv2.COLOR_GRAY2BGR))
    with pytest.raises(SegDataError) as err:
        _build(binary, ('bg', 'fg'))
    assert _one_line(err).startswith(f'annotation {first} has shape (64, 64, 3)')


def test_reduce_zero_label_set_in_the_pipeline_only(binary):
    pipeline = [dict(type='LoadAnnotations', reduce_zero_label=True)]
    with pytest.raises(
        ConfigError,
        match=r'LoadAnnotations\(reduce_zero_label=True\) but the '
        r'dataset has reduce_zero_label=False',
    ):
        _build(binary, ('bg', 'fg'), pipeline)


def test_classes_and_palette_are_required_to_match(binary):
    with pytest.raises(ConfigError, match='no classes'):
        _build(binary, ())
    with pytest.raises(ConfigError, match='2 classes but 1 palette colours'):
        init_default_scope('mmseg')
        CheckedSegDataset(data_root=binary, metainfo=dict(classes=('a', 'b'), palette=[(0, 0, 0)]))


def test_spread_keeps_the_ends():
    assert spread(list(range(5)), 16) == [0, 1, 2, 3, 4]
    picked = spread(list(range(100)), 4)
    assert picked[0] == 0 and picked[-1] == 99 and len(picked) == 4


def test_unreadable_label_map_is_named_when_the_dataset_is_built(binary):
    path = osp.join(binary, 'ann_dir', 'train', '0001.png')
    with open(path, 'wb') as f:
        f.write(b'not a png')
    with pytest.raises(SegDataError) as err:
        _build(binary, ('bg', 'fg'))
    assert (
        _one_line(err)
        == f'annotation {path} (9 bytes) is not a readable image; expected a PNG file'
    )
