"""File names read from data files stay inside their folder (issue 33, confinement).

For each dataset family that takes file names from a data file (COCO and COCO panoptic JSON,
ImageNet list files, KITTI split files), a name such as ``../outside.jpg`` or an absolute path
is refused with one error naming the data file and the name, even when the file it points to
exists (so nothing outside the data folder is ever read). The NYU .mat converter, which writes,
is tested in ``test_depth_data.py``.
"""

import json
import os.path as osp
import shutil

import cv2
import numpy as np
import pytest
from mmengine.registry import init_default_scope

from pvtv2_dense.datasets import (
    AnnotationError,
    ImageNetFolder,
    KITTIDepthDataset,
    PanopticDataError,
    generate_coco,
    generate_coco_panoptic,
    generate_imagenet,
    generate_kitti,
)
from pvtv2_dense.datasets.confine import confined_join, name_problem
from pvtv2_dense.errors import DataError
from tests.helpers.bad_data_workspace import coco_dataset

ESCAPES = ['../outside.jpg', '../../outside.jpg', 'a/../../outside.jpg']


@pytest.mark.parametrize(
    'name,problem',
    [
        ('a.jpg', ''),
        ('sub/dir/a.jpg', ''),
        ('a..b.jpg', ''),
        ('../a.jpg', "'..'"),
        ('x/../../a.jpg', "'..'"),
        ('/etc/passwd', 'absolute'),
        ('~/a.jpg', 'absolute'),
        ('a\\..\\b.jpg', 'backslash'),
        ('a\0.jpg', 'NUL'),
        ('', 'non-empty'),
        (None, 'non-empty'),
    ],
)
def test_name_rule(name, problem):
    found = name_problem(name)
    assert (problem in found) if problem else found == ''
    if problem:
        with pytest.raises(DataError, match='list.txt'):
            confined_join('/data', name, 'list.txt')


def _outside_image(root):
    """A readable image just outside ``root``: the target an escaping name would reach."""
    path = osp.join(osp.dirname(root), 'outside.jpg')
    cv2.imwrite(path, np.zeros((64, 64, 3), np.uint8))
    return path


@pytest.fixture(scope='module')
def coco(tmp_path_factory):
    return generate_coco(str(tmp_path_factory.mktemp('coco')), num_train=2, num_val=1, seed=0)


@pytest.fixture(scope='module')
def pan(tmp_path_factory):
    return generate_coco_panoptic(str(tmp_path_factory.mktemp('pan')), num_train=2, num_val=1)


def _edited_copy(src, dst, rel, edit):
    shutil.copytree(src, dst)
    path = osp.join(dst, rel)
    with open(path) as f:
        data = json.load(f)
    edit(data)
    with open(path, 'w') as f:
        json.dump(data, f)
    return path


@pytest.mark.parametrize('name', [*ESCAPES, 'ABSOLUTE'])
def test_coco_file_name_stays_in_the_image_folder(coco, tmp_path, name):
    root = str(tmp_path / 'coco')
    outside = _outside_image(root)
    name = outside if name == 'ABSOLUTE' else name
    ann = 'annotations/instances_train2017.json'
    path = _edited_copy(coco, root, ann, lambda d: d['images'][0].update(file_name=name))
    shutil.copy(outside, osp.join(root, 'outside.jpg'))  # where train2017/../outside.jpg leads
    with pytest.raises(AnnotationError) as err:
        coco_dataset(root, ann)
    assert path in str(err.value) and repr(name) in str(err.value)


@pytest.mark.parametrize('field', ['image', 'png'])
@pytest.mark.parametrize('name', ['../outside.png', 'ABSOLUTE'])
def test_panoptic_file_names_stay_in_their_folders(pan, tmp_path, field, name):
    root = str(tmp_path / 'pan')
    outside = _outside_image(root)
    name = outside if name == 'ABSOLUTE' else name

    def edit(data):
        entry = data['images'][0] if field == 'image' else data['annotations'][0]
        entry['file_name'] = name

    ann = 'annotations/panoptic_train2017.json'
    path = _edited_copy(pan, root, ann, edit)
    for folder in (root, osp.join(root, 'annotations')):  # where '../outside.png' leads
        cv2.imwrite(osp.join(folder, 'outside.png'), np.zeros((64, 64, 3), np.uint8))
    with pytest.raises(PanopticDataError) as err:
        coco_dataset(root, ann, panoptic=True)
    assert path in str(err.value) and repr(name) in str(err.value)


def test_imagenet_list_paths_stay_in_the_image_folder(tmp_path):
    root = generate_imagenet(str(tmp_path), per_class_train=1, per_class_val=1, size=16, seed=0)
    outside = _outside_image(osp.join(root, 'train'))  # root/outside.jpg, beside train/
    listing = osp.join(root, 'meta', 'train.txt')
    with open(listing) as f:
        lines = f.read().splitlines()
    for bad in ('../outside.jpg', outside):
        with open(listing, 'w') as f:
            f.write('\n'.join([f'{bad} 0', *lines[1:]]) + '\n')
        with pytest.raises(DataError) as err:
            ImageNetFolder(data_root=root, ann_file='meta/train.txt', pipeline=[])
        assert f'{listing} line 1' in str(err.value) and repr(bad) in str(err.value)


def test_kitti_split_paths_stay_in_their_folders(tmp_path):
    root = generate_kitti(str(tmp_path), num_train=1, num_val=1, seed=0)
    split = osp.join(root, 'splits', 'eigen_train_files_with_gt.txt')
    with open(split) as f:
        first, *rest = f.read().splitlines()
    image, depth, *focal = first.split()
    for line in (f'../../{image} {depth}', f'{image} /{depth}'):
        with open(split, 'w') as f:
            f.write('\n'.join([f'{line} {" ".join(focal)}', *rest]) + '\n')
        init_default_scope('mmseg')
        with pytest.raises(DataError, match=f'{split}:1: '):
            KITTIDepthDataset(
                data_root=root, ann_file='splits/eigen_train_files_with_gt.txt', pipeline=[]
            )
