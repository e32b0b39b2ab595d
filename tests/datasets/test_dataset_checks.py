"""The shared sample checks (``pvtv2_dense.datasets.checks``) on a dataset of a new kind (a
list file of ``IMAGE LABEL`` lines), and ``checked_dataset``'s refusal of unchecked classes."""

import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine.dataset import BaseDataset

from pvtv2_dense.datasets.checks import (
    CheckedSamplesMixin,
    out_of_range,
    sample_files,
    undecodable_files,
)
from pvtv2_dense.errors import DataError


class _LabelListBase(BaseDataset):
    """``IMAGE LABEL`` per line of ``ann_file`` (not mmengine's JSON list format)."""

    num_classes = 3

    def load_data_list(self):
        data_list = []
        with open(self.ann_file) as f:
            for lineno, line in enumerate(f, 1):
                name, label = line.split()
                bad = out_of_range([int(label)], self.num_classes)
                if bad:
                    raise DataError(
                        f'{self.ann_file}:{lineno}: label {bad[0]} outside 0..'
                        f'{self.num_classes - 1}'
                    )
                path = osp.join(self.data_prefix['img_path'], name)
                data_list.append(dict(img_path=path, gt_label=int(label)))
        return data_list


class LabelList(CheckedSamplesMixin, _LabelListBase):
    """The checked dataset: the mixin goes first and wraps the list the base class reads."""

    sample_file_keys = ('img_path',)


def _load(img):
    img['img'] = cv2.imread(img['img_path'])
    if img['img'] is None:
        raise OSError('decoder failed')
    return img


@pytest.fixture
def root(tmp_path):
    (tmp_path / 'img').mkdir()
    for i in range(2):
        cv2.imwrite(str(tmp_path / 'img' / f'{i}.png'), np.full((8, 8, 3), 40 * i, np.uint8))
    (tmp_path / 'list.txt').write_text('0.png 0\n1.png 2\n')
    return tmp_path


def _build(root, **kw):
    return LabelList(
        data_root=str(root),
        ann_file='list.txt',
        data_prefix=dict(img_path='img'),
        pipeline=[_load],
        **kw,
    )


def test_out_of_range_keeps_the_ignore_index():
    assert out_of_range([0, 2, 3, 255, -1], 3, ignore_index=255) == [-1, 3]
    assert out_of_range(np.zeros((4, 4), np.uint8), 1) == []


def test_good_samples_load(root):
    ds = _build(root)
    assert [ds.get_data_info(i)['gt_label'] for i in range(len(ds))] == [0, 2]
    assert ds[1]['img'].shape == (8, 8, 3)


def test_label_outside_the_classes_names_the_line(root):
    (root / 'list.txt').write_text('0.png 0\n1.png 3\n')
    with pytest.raises(DataError, match=r'list\.txt:2: label 3 outside 0\.\.2'):
        _build(root)


def test_missing_sources_and_files_are_named(root):
    with pytest.raises(DataError, match=r'annotation file .*nope\.txt does not exist'):
        LabelList(data_root=str(root), ann_file='nope.txt', data_prefix=dict(img_path='img'))
    (root / 'list.txt').write_text('0.png 0\n7.png 1\n')
    with pytest.raises(DataError, match=r'1 of 2 samples lack their img_path, e\.g\. .*7\.png'):
        _build(root)
    (root / 'list.txt').write_text('')
    with pytest.raises(DataError, match=r'LabelList: no samples found in .*list\.txt'):
        _build(root)


def test_undecodable_file_is_named_at_load(root):
    (root / 'img' / '1.png').write_bytes(b'not a png')
    ds = _build(root)
    with pytest.raises(DataError) as err:
        ds[1]
    assert str(err.value) == (
        f'sample 1: image {root}/img/1.png (9 bytes) is not a readable image; expected a PNG or '
        'JPEG file'
    )
    info = dict(img_path=str(root / 'img' / '0.png'), seg_map_path=str(root / 'img' / '1.png'))
    assert sample_files(info) == f'image {root}/img/0.png, annotation {root}/img/1.png'
    assert undecodable_files(info).startswith(f'annotation {root}/img/1.png (9 bytes)')


def test_checked_dataset_refuses_a_class_without_the_mixin_first():
    from pvtv2_dense.datasets.checks import checked_dataset

    with pytest.raises(TypeError, match='derives from CheckedSamplesMixin'):
        checked_dataset()(_LabelListBase)
    swapped = type('Swapped', (_LabelListBase, CheckedSamplesMixin), {})
    with pytest.raises(TypeError, match='must come before the dataset it checks'):
        checked_dataset()(swapped)
