"""The synthetic ADE20K-layout generator: deterministic, reused, readable by mmseg."""

import os

import numpy as np
from mmcv.transforms import LoadImageFromFile
from mmseg.datasets import ADE20KDataset
from mmseg.datasets.transforms import LoadAnnotations

from pvtv2_dense.datasets import generate_ade20k
from tests.helpers.common import tree_digest


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    a = generate_ade20k(str(tmp_path / 'a'), num_train=3, num_val=2, seed=5)
    b = generate_ade20k(str(tmp_path / 'b'), num_train=3, num_val=2, seed=5)
    c = generate_ade20k(str(tmp_path / 'c'), num_train=3, num_val=2, seed=6)
    assert tree_digest(a) == tree_digest(b) != tree_digest(c)


def test_reused_when_complete(tmp_path):
    root = generate_ade20k(str(tmp_path), num_train=2, num_val=1)
    image = os.path.join(root, 'images', 'training', 'ADE_train_00000001.jpg')
    stamp = os.stat(image).st_mtime_ns
    generate_ade20k(str(tmp_path), num_train=2, num_val=1)
    assert os.stat(image).st_mtime_ns == stamp


def test_mmseg_reads_it_with_ade20k_semantics(tmp_path):
    root = generate_ade20k(str(tmp_path), num_train=4, num_val=2)
    ds = ADE20KDataset(
        data_root=root,
        data_prefix=dict(img_path='images/training', seg_map_path='annotations/training'),
        pipeline=[LoadImageFromFile(), LoadAnnotations()],
    )
    assert len(ds) == 4
    labels = set()
    for i in range(len(ds)):
        sample = ds[i]
        assert sample['img'].shape == (64, 64, 3)
        labels |= set(np.unique(sample['gt_seg_map']).tolist())
    # reduce_zero_label: the "other" band becomes 255, ids 1.. become 0..
    assert 255 in labels and labels - {255} <= set(range(150)) and len(labels) >= 3
