"""Each config of configs/custom/ trains a few iterations, and validates, on a tiny generated set
in its on-disk layout, after the edits a user makes: the block at the top of the config (data
root, classes, palette, sizes). The binary-mask trap stops tools/train.py with one line."""

import os
import os.path as osp
import re
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import pytest

from pvtv2_dense.datasets import (
    generate_coco,
    generate_coco_panoptic,
    generate_imagenet,
    generate_nyu,
    generate_seg_folder,
)
from pvtv2_dense.datasets.synthetic.coco import CLASSES as COCO_CLASSES
from pvtv2_dense.datasets.synthetic.coco_panoptic import STUFF_CLASSES, THING_CLASSES
from pvtv2_dense.datasets.synthetic.imagenet import WNIDS

ROOT = Path(__file__).resolve().parents[2]
CUSTOM = ROOT / 'configs' / 'custom'
SEG = 'segformer_pvtv2-b0_1xb8-20k_custom-seg-512x512.py'
BINARY = 'segformer_pvtv2-b0_1xb8-20k_custom-binary-seg-512x512.py'
DEPTH = 'glpn_pvtv2-b0_1xb8-25e_custom-depth-448x576.py'
DET = 'deformable-detr_pvtv2-b0_1xb4-50e_custom-coco.py'
PANOPTIC = 'panoptic-segformer_pvtv2-b0_1xb2-24e_custom-coco-panoptic.py'
CLS = 'pvtv2-b0_1xb64-100e_custom-cls-224px.py'


def _palette(n):
    return [(40 * i % 256, 90 * i % 256, 150 * i % 256) for i in range(n)]


def _seg_set(tmp, num_classes):
    root = generate_seg_folder(str(tmp / 'src'), num_classes=num_classes, num_train=4, num_val=2)
    classes = tuple(f'class{i}' for i in range(num_classes))
    return dict(data_root=root, classes=classes, palette=_palette(num_classes), crop_size=(64, 64))


def _depth_set(tmp):
    root = generate_nyu(str(tmp / 'src'), num_train=4, num_val=2, size=(64, 64))
    for kind in ('images', 'annotations'):  # NYU's test split is the custom layout's val
        os.rename(osp.join(root, kind, 'test'), osp.join(root, kind, 'val'))
    return dict(data_root=root, crop_size=(64, 64))


def _det_set(tmp):
    root = generate_coco(str(tmp / 'src'), num_train=4, num_val=2, size=(64, 64))
    for split in ('train', 'val'):
        os.rename(osp.join(root, f'{split}2017'), osp.join(root, split))
        os.rename(
            osp.join(root, 'annotations', f'instances_{split}2017.json'),
            osp.join(root, 'annotations', f'{split}.json'),
        )
    return dict(data_root=root + '/', classes=COCO_CLASSES, palette=_palette(3), img_scale=(64, 64))


def _panoptic_set(tmp):
    root = generate_coco_panoptic(str(tmp / 'src'), num_train=4, num_val=2, size=(64, 64))
    ann = osp.join(root, 'annotations')
    for split in ('train', 'val'):
        os.rename(osp.join(root, f'{split}2017'), osp.join(root, split))
        os.rename(osp.join(ann, f'panoptic_{split}2017'), osp.join(ann, f'panoptic_{split}'))
        os.rename(
            osp.join(ann, f'panoptic_{split}2017.json'), osp.join(ann, f'panoptic_{split}.json')
        )
    n = len(THING_CLASSES) + len(STUFF_CLASSES)
    return dict(
        data_root=root + '/',
        thing_classes=THING_CLASSES,
        stuff_classes=STUFF_CLASSES,
        palette=_palette(n),
        img_scale=(64, 64),
    )


def _cls_set(tmp):
    root = generate_imagenet(str(tmp / 'src'), per_class_train=1, per_class_val=1, size=32)
    shutil.rmtree(osp.join(root, 'val'))  # ImageNet's val is one flat folder; here, per class
    shutil.copytree(osp.join(root, 'train'), osp.join(root, 'val'))
    return dict(data_root=root, classes=WNIDS, img_size=32)


def _edited_copy(name, tmp, block):
    """The config with its top block set to ``block`` (each key assigned once there) and its
    ``_base_`` made absolute: what a user does to the shipped file."""
    text = (CUSTOM / name).read_text()
    for key, value in {**block, 'checkpoint': None}.items():
        text, count = re.subn(rf'^{key} = .*$', f'{key} = {value!r}', text, flags=re.M)
        assert count == 1, f'{name}: {key} is assigned {count} times at the top'
    text = text.replace("'../", f"'{ROOT}/configs/")
    path = tmp / name
    path.write_text(text)
    return str(path)


def _train(config, work_dir, *options):
    loaders = [
        f'{loader}.{key}'
        for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')
        for key in ('num_workers=0', 'persistent_workers=False')
    ]
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS='1')
    args = [
        sys.executable,
        str(ROOT / 'tools' / 'train.py'),
        config,
        '--work-dir',
        str(work_dir),
        '--cfg-options',
        'train_dataloader.batch_size=2',
        *loaders,
        *options,
    ]
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=900)


ITERS = ('train_cfg.max_iters=2', 'train_cfg.val_interval=2', 'default_hooks.checkpoint.interval=2')
EPOCH = ('train_cfg.max_epochs=1',)
CASES = {
    SEG: (lambda tmp: _seg_set(tmp, 4), ITERS, 'mIoU'),
    BINARY: (lambda tmp: _seg_set(tmp, 2), ITERS, 'mIoU'),
    DEPTH: (_depth_set, EPOCH, 'abs_rel'),
    DET: (_det_set, EPOCH, 'coco/bbox_mAP'),
    PANOPTIC: (_panoptic_set, EPOCH, 'coco_panoptic/PQ'),
    # DeiT's 5 warmup epochs need a run longer than 5 epochs: none here.
    CLS: (_cls_set, (*EPOCH, 'param_scheduler.0.warmup_epochs=0'), 'accuracy/top1'),
}


def test_every_custom_config_is_tested():
    assert sorted(p.name for p in CUSTOM.glob('*.py')) == sorted(CASES)


@pytest.mark.slow
@pytest.mark.parametrize('name', sorted(CASES))
def test_custom_config_trains_on_its_layout(name, tmp_path):
    make, schedule, metric = CASES[name]
    config = _edited_copy(name, tmp_path, make(tmp_path))
    proc = _train(config, tmp_path / 'work', *schedule)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert metric in proc.stdout + proc.stderr
    assert list((tmp_path / 'work').glob('*.pth')), 'no checkpoint written'


@pytest.mark.slow
def test_binary_masks_saved_as_0_255_stop_train_with_one_line(tmp_path):
    block = _seg_set(tmp_path, 2)
    ann = osp.join(block['data_root'], 'ann_dir', 'train')
    for name in os.listdir(ann):
        path = osp.join(ann, name)
        cv2.imwrite(path, cv2.imread(path, cv2.IMREAD_UNCHANGED) * 255)
    proc = _train(_edited_copy(BINARY, tmp_path, block), tmp_path / 'work', *ITERS)
    assert proc.returncode == 2
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith('error: ') and ann in last
    assert 'only 0 and 255' in last and 'mask // 255' in last
