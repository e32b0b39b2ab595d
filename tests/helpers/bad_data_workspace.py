"""The workspace of ``tests/tools/test_bad_inputs_data.py``: tiny sets in the real on-disk formats,
each copy with one data fault of issue 33 (file names leaving their folder, broken JSON, a
symlink loop, label maps without a valid pixel or resized with interpolation, odd image sizes),
and a .mat whose scene names leave the converter's output."""

import json
import os
import os.path as osp
import shutil

import cv2
import numpy as np
import torch
from mmengine.registry import MODELS, init_default_scope

from pvtv2_dense.datasets import (
    generate_ade20k,
    generate_coco,
    generate_coco_panoptic,
    generate_imagenet,
)

from .common import tiny_seg_cfg

# The quickstart configs whose training sets the matrix rows replace, by task.
QUICKSTART = dict(
    det='configs/quickstart/deformable-detr-refine_pvtv2-b0_1xb8-600iter_synthetic-coco-64x64.py',
    cls='configs/quickstart/pvtv2-b0_1xb32-12e_synthetic-in1k-64x64.py',
    pan='configs/quickstart/'
    'panoptic-segformer_pvtv2-b0_1xb8-800iter_synthetic-coco-panoptic-64x64.py',
)


def coco_dataset(root, ann_file, panoptic=False):
    """The checked COCO (or COCO panoptic) dataset on the training split of a generated set."""
    from pvtv2_dense.datasets import CheckedCocoDataset, CheckedCocoPanopticDataset
    from pvtv2_dense.datasets.synthetic import coco as det_set
    from pvtv2_dense.datasets.synthetic import coco_panoptic as pan_set

    init_default_scope('mmdet')
    if not panoptic:
        return CheckedCocoDataset(
            data_root=root,
            ann_file=ann_file,
            data_prefix=dict(img='train2017/'),
            metainfo=dict(classes=det_set.CLASSES),
            pipeline=[],
        )
    return CheckedCocoPanopticDataset(
        data_root=root,
        ann_file=ann_file,
        data_prefix=dict(img='train2017/', seg='annotations/panoptic_train2017/'),
        metainfo=dict(
            classes=pan_set.CLASSES,
            thing_classes=pan_set.THING_CLASSES,
            stuff_classes=pan_set.STUFF_CLASSES,
        ),
        pipeline=[],
    )


def write_labeled_mat(path, n=3, h=12, w=16, scenes=('kitchen', 'bedroom', 'office')):
    """A small ``nyu_depth_v2_labeled.mat`` (MATLAB v7.3 / HDF5) with ``images``, ``depths``
    and ``sceneTypes`` as the official file stores them; returns (rgb, depth) per frame."""
    import h5py

    rng = np.random.default_rng(0)
    # Smooth, channel-distinct frames (R ramps along x, G along y): JPEG keeps them, and a
    # transposed or channel-swapped frame would not match.
    yy, xx = np.mgrid[0:h, 0:w]
    rgb = np.stack(
        [
            np.stack([xx * 255 // w, yy * 255 // h, np.full_like(xx, 60 * (i + 1))], -1)
            for i in range(n)
        ]
    ).astype(np.uint8)
    depth = rng.uniform(0.5, 9.0, (n, h, w)).astype(np.float32)
    depth[0, 0, 0] = 0.0
    with h5py.File(path, 'w') as f:
        # MATLAB v7.3 stores H x W x 3 x N column-major: h5py sees the reverse (N, 3, W, H).
        f['images'] = rgb.transpose(0, 3, 2, 1)
        f['depths'] = depth.transpose(0, 2, 1)
        refs = []
        for i, name in enumerate(scenes[:n]):
            f[f'#refs#/{i}'] = np.array([[ord(c)] for c in name], np.uint16)
            refs.append(f[f'#refs#/{i}'].ref)
        f.create_dataset('sceneTypes', data=np.array([refs]), dtype=h5py.ref_dtype)
    return rgb, depth


def interpolated_label_map(shape=(64, 64), values=(100, 180, 250)):
    """Discs of class ``values`` on 0, shrunk and enlarged again with interpolation (as a
    careless resize does): hundreds of values between the classes."""
    m = np.zeros((64, 64), np.uint8)
    for i, (centre, value) in enumerate(zip([(20, 20), (44, 40), (30, 50)], values)):
        cv2.circle(m, centre, 12 - 2 * i, int(value), -1)
    small = cv2.resize(m, (20, 20), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, shape[::-1], interpolation=cv2.INTER_LINEAR)


def _first(folder, suffix):
    return osp.join(folder, sorted(f for f in os.listdir(folder) if f.endswith(suffix))[0])


def _edit_json(path, edit):
    with open(path) as f:
        data = json.load(f)
    edit(data)
    with open(path, 'w') as f:
        json.dump(data, f)


def _seg_faults(p, ade, bad):
    img_dir, ann_dir = 'images/training', 'annotations/training'
    faults = {
        # 0 is 'other' in ADE20K, ignored under reduce_zero_label.
        'seg_all_ignore': lambda r: cv2.imwrite(_first(r(ann_dir), '.png'), np.zeros((64, 64))),
        'seg_interpolated': lambda r: cv2.imwrite(
            _first(r(ann_dir), '.png'), interpolated_label_map()
        ),
        'seg_loop': lambda r: os.symlink('.', r(img_dir, 'loop')),
    }
    for name, fault in faults.items():
        root = shutil.copytree(ade, p('bad', name))
        fault(lambda *parts, root=root: osp.join(root, *parts))
        bad[name + '_root'] = root
    bad['seg_all_ignore'] = _first(osp.join(bad['seg_all_ignore_root'], ann_dir), '.png')
    bad['seg_interpolated'] = _first(osp.join(bad['seg_interpolated_root'], ann_dir), '.png')
    bad['seg_loop'] = osp.join(bad['seg_loop_root'], img_dir, 'loop')
    # Odd sizes: the first training image (and its map) 1x1, or 20 rows of 10000 pixels.
    for name, shape in (('seg_1x1', (1, 1)), ('seg_20x10000', (20, 10000))):
        root = shutil.copytree(ade, p('bad', name))
        img, ann = _first(osp.join(root, img_dir), '.jpg'), _first(osp.join(root, ann_dir), '.png')
        rng = np.random.default_rng(0)
        cv2.imwrite(img, rng.integers(0, 255, (*shape, 3), dtype=np.uint8))
        cv2.imwrite(ann, np.full(shape, 3, np.uint8))
        bad[name], bad[name + '_root'] = img, root


def _coco_faults(p, bad):
    coco = generate_coco(p('coco_src'), num_train=4, num_val=2, seed=3)
    ann = 'annotations/instances_train2017.json'
    for name, write in [
        ('det_json_truncated', lambda text: text[: len(text) // 2]),
        ('det_json_empty', lambda text: ''),
        ('det_json_null', lambda text: json.dumps(dict(json.loads(text), annotations=None))),
    ]:
        root = shutil.copytree(coco, p('bad', name))
        with open(osp.join(root, ann)) as f:
            text = f.read()
        with open(osp.join(root, ann), 'w') as f:
            f.write(write(text))
        bad[name], bad[name + '_root'] = osp.join(root, ann), root + '/'
    # A file_name that leaves train2017/, to an image that exists there.
    root = shutil.copytree(coco, p('bad', 'det_file_escape'))
    data_img = _first(osp.join(root, 'train2017'), '.jpg')
    shutil.copy(data_img, osp.join(root, 'outside.jpg'))
    _edit_json(osp.join(root, ann), lambda d: d['images'][0].update(file_name='../outside.jpg'))
    bad['det_file_escape'], bad['det_file_escape_root'] = osp.join(root, ann), root + '/'

    pan = generate_coco_panoptic(p('pan_src'), num_train=4, num_val=2, seed=5)
    ann = 'annotations/panoptic_train2017.json'
    root = shutil.copytree(pan, p('bad', 'pan_json_truncated'))
    with open(osp.join(root, ann), 'r+') as f:
        f.truncate(os.path.getsize(osp.join(root, ann)) // 2)
    bad['pan_json_truncated'], bad['pan_json_truncated_root'] = osp.join(root, ann), root + '/'
    # A PNG file_name that leaves its folder, to a copy of the right PNG.
    root = shutil.copytree(pan, p('bad', 'pan_png_escape'))
    with open(osp.join(root, ann)) as f:
        png = json.load(f)['annotations'][0]['file_name']
    shutil.copy(
        osp.join(root, 'annotations/panoptic_train2017', png), osp.join(root, 'annotations/x.png')
    )
    _edit_json(osp.join(root, ann), lambda d: d['annotations'][0].update(file_name='../x.png'))
    bad['pan_png_escape'], bad['pan_png_escape_root'] = osp.join(root, ann), root + '/'


def build_data_workspace(t):
    """Fill folder ``t`` with a tiny segmentation config and checkpoint and the faulty sets.

    Args:
        t (str): an empty folder.

    Returns:
        dict: ``t``; ``p`` (joins a path under ``t``); ``bad`` (for each fault, the file at
        fault as ``bad[name]`` and its dataset copy as ``bad[name + '_root']``).
    """
    p = lambda *parts: osp.join(t, *parts)  # noqa: E731
    ade = generate_ade20k(p('ade'), num_train=4, num_val=2, seed=1)
    cfg = tiny_seg_cfg(ade, p('work'), max_iters=1)
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', by_epoch=False, interval=1000)
    cfg.train_dataloader.batch_size = 4  # one iteration draws every training image
    cfg.dump(p('seg.py'))
    init_default_scope('mmseg')
    model_cfg = cfg.model.copy()
    model_cfg.decode_head.norm_cfg = dict(type='BN', requires_grad=True)
    torch.manual_seed(0)
    torch.save(dict(state_dict=MODELS.build(model_cfg).state_dict(), meta={}), p('good.pth'))
    bad = {}
    _seg_faults(p, ade, bad)
    _coco_faults(p, bad)
    imagenet = generate_imagenet(p('in_src'), per_class_train=1, per_class_val=1, size=32, seed=4)
    root = shutil.copytree(imagenet, p('bad', 'cls_list_escape'))
    listing = osp.join(root, 'meta', 'train.txt')
    with open(listing) as f:
        first, *rest = f.read().splitlines()
    path, label = first.rsplit(' ', 1)
    shutil.copy(osp.join(root, 'train', path), osp.join(root, 'outside.JPEG'))
    with open(listing, 'w') as f:
        f.write('\n'.join([f'../outside.JPEG {label}', *rest]) + '\n')
    bad['cls_list_escape'], bad['cls_list_escape_root'] = listing, root
    # Converter output goes to runs/nyu: '../../../../escaped' leads to t itself.
    write_labeled_mat(p('labeled.mat'), scenes=('kitchen', '../../../../escaped', 'office'))
    return dict(t=t, p=p, bad=bad)
