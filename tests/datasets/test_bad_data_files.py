"""Broken data files give one error naming the file (issue 33): COCO JSON that is truncated,
empty or has ``"annotations": null``; a symlink loop in a data root; label maps without a valid
pixel; label maps resized with interpolation (issue 35)."""

import json
import os
import os.path as osp
import shutil

import cv2
import numpy as np
import pytest
from mmengine.registry import init_default_scope

from pvtv2_dense.datasets import (
    AnnotationError,
    CheckedSegDataset,
    CheckSegAnnotation,
    PanopticDataError,
    SegDataError,
    generate_coco,
    generate_coco_panoptic,
    generate_seg_folder,
)
from pvtv2_dense.datasets.seg_labels import label_problem
from tests.helpers.bad_data_workspace import coco_dataset, interpolated_label_map

JSON_FAULTS = {
    'truncated': lambda text: text[: len(text) // 2],
    'empty': lambda text: '',
    'annotations-null': lambda text: json.dumps(dict(json.loads(text), annotations=None)),
}
EXPECTED = {'truncated': 'not valid JSON', 'empty': 'empty', 'annotations-null': 'null'}


def _broken_json(src, dst, fault):
    with open(src) as f:
        text = f.read()
    with open(dst, 'w') as f:
        f.write(JSON_FAULTS[fault](text))
    return str(dst)


@pytest.mark.parametrize(
    'panoptic,fault',
    [(False, f) for f in JSON_FAULTS] + [(True, 'truncated'), (True, 'empty')],
)
def test_broken_coco_json(tmp_path, panoptic, fault):
    if panoptic:
        root = generate_coco_panoptic(str(tmp_path), num_train=1, num_val=1, seed=0)
        src, error = 'annotations/panoptic_train2017.json', PanopticDataError
    else:
        root = generate_coco(str(tmp_path), num_train=1, num_val=1, seed=0)
        src, error = 'annotations/instances_train2017.json', AnnotationError
    ann = _broken_json(osp.join(root, src), tmp_path / 'bad.json', fault)
    with pytest.raises(error) as err:
        coco_dataset(root, ann, panoptic)
    assert ann in str(err.value) and EXPECTED[fault] in str(err.value)


def _seg_dataset(root, pipeline=(), **kwargs):
    init_default_scope('mmseg')
    return CheckedSegDataset(
        data_root=root,
        data_prefix=dict(img_path='img_dir/train', seg_map_path='ann_dir/train'),
        metainfo=dict(classes=('a', 'b', 'c', 'd')),
        pipeline=list(pipeline),
        **kwargs,
    )


def test_symlink_loop_in_data_root(tmp_path):
    root = generate_seg_folder(str(tmp_path), num_classes=4, num_train=2, num_val=1, seed=0)
    os.symlink('.', osp.join(root, 'img_dir', 'train', 'loop'))  # train/loop/loop/... forever
    with pytest.raises(SegDataError) as err:
        _seg_dataset(root)
    assert osp.join(root, 'img_dir', 'train', 'loop') + ' points to' in str(err.value)
    assert '\n' not in str(err.value)


LOAD = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations')]


@pytest.mark.parametrize(
    'value,reduce_zero_label,note', [(255, False, ''), (0, True, 'reduce_zero_label')]
)
def test_label_map_without_a_valid_pixel(tmp_path, value, reduce_zero_label, note):
    root = generate_seg_folder(str(tmp_path), num_classes=4, num_train=2, num_val=1, seed=0)
    ann_dir = osp.join(root, 'ann_dir', 'train')
    first = osp.join(ann_dir, sorted(os.listdir(ann_dir))[0])
    cv2.imwrite(first, np.full((64, 64), value, np.uint8))
    check = dict(type='CheckSegAnnotation', num_classes=4)
    # Refused when the dataset is built (the map is among those read)...
    with pytest.raises(SegDataError) as err:
        _seg_dataset(root, [*LOAD, check], reduce_zero_label=reduce_zero_label)
    assert first in str(err.value) and 'no valid pixel' in str(err.value)
    assert note in str(err.value)
    # ... and by CheckSegAnnotation when loaded (maps the build did not read).
    seg = np.full((64, 64), 255, np.uint8)  # what LoadAnnotations makes of it
    sample = dict(gt_seg_map=seg, seg_map_path=first, reduce_zero_label=reduce_zero_label)
    with pytest.raises(SegDataError, match='no valid pixel') as err:
        CheckSegAnnotation(num_classes=4)(dict(sample))
    assert first in str(err.value) and note in str(err.value)
    # allow_empty=True lets the map through, counted.
    loose = dict(check, allow_empty=True)
    ds = _seg_dataset(root, [*LOAD, loose], reduce_zero_label=reduce_zero_label)
    assert (ds[0]['gt_seg_map'] == 255).all()
    assert ds.pipeline.transforms[-1].empty_maps == 1


def test_interpolated_map_is_named_as_such(tmp_path):
    path = str(tmp_path / 'a.png')
    seg = interpolated_label_map()
    cv2.imwrite(path, seg)
    assert len(np.unique(seg)) > 20  # the trap: many values between the classes
    problem = label_problem([path], num_classes=4)
    assert path in problem and 'interpolation' in problem and 'nearest' in problem
    assert len(problem) < 400  # a few values, not all of them
    check = CheckSegAnnotation(num_classes=4)
    with pytest.raises(SegDataError) as err:
        check(dict(gt_seg_map=seg, seg_map_path=path, ori_shape=seg.shape))
    assert 'interpolation' in str(err.value) and 'PNG' in str(err.value)
    # A few missing classes keep the classes advice.
    few = np.where(seg > 200, 5, 0).astype(np.uint8)
    cv2.imwrite(path, few)
    assert 'classes' in label_problem([path], num_classes=4)
    assert 'interpolation' not in label_problem([path], num_classes=4)


def test_checks_leave_a_clean_copy_alone(tmp_path):
    """The intact set still loads (the checks refuse only what is broken)."""
    root = generate_seg_folder(str(tmp_path), num_classes=4, num_train=2, num_val=1, seed=0)
    shutil.copytree(root, tmp_path / 'copy')
    check = dict(type='CheckSegAnnotation', num_classes=4)
    ds = _seg_dataset(str(tmp_path / 'copy'), [*LOAD, check])
    assert ds[0]['gt_seg_map'].shape == (64, 64)
