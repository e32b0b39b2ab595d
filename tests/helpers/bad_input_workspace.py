"""The workspace and the tool runner of ``tests/tools/test_bad_inputs.py``: tiny data, configs and
checkpoints, each with one deliberate fault, in the real on-disk formats."""

import json
import os
import os.path as osp
import runpy
import shutil
import sys
import tempfile
import traceback

import cv2
import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import MODELS, init_default_scope

from pvtv2_dense.datasets import (
    generate_ade20k,
    generate_coco,
    generate_coco_panoptic,
    generate_imagenet,
    generate_nyu,
    generate_seg_folder,
)

from .common import ROOT, TINY_ARCH, tiny_seg_cfg


def run_tool(tool, args, cwd):
    """Run ``tools/<tool>`` with ``args`` as ``python tools/<tool> ARGS`` would; returns
    (exit status, stdout, stderr). The child is a fork of this process."""
    out_fd, out_path = tempfile.mkstemp()
    err_fd, err_path = tempfile.mkstemp()
    pid = os.fork()
    if pid == 0:  # child: never returns into pytest
        code = 1
        try:
            os.dup2(out_fd, 1)
            os.dup2(err_fd, 2)
            # pytest swaps sys.stdout/err for its own capture objects: write to the fds.
            sys.stdout = open(1, 'w', buffering=1, closefd=False)
            sys.stderr = open(2, 'w', buffering=1, closefd=False)
            os.chdir(cwd)
            torch.set_num_threads(1)  # no OpenMP pool carried across the fork
            sys.argv = [osp.join(ROOT, 'tools', tool), *args]
            try:
                runpy.run_path(sys.argv[0], run_name='__main__')
                code = 0
            except SystemExit as done:
                if isinstance(done.code, str):
                    print(done.code, file=sys.stderr)
                code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
            except BaseException:
                traceback.print_exc()
                code = 1
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    outputs = []
    for fd, path in ((out_fd, out_path), (err_fd, err_path)):
        os.close(fd)
        with open(path, errors='replace') as f:
            outputs.append(f.read())
        os.remove(path)
    return os.waitstatus_to_exitcode(status), outputs[0], outputs[1]


def _mutate_first(folder, suffix, write):
    path = sorted(p for p in os.listdir(folder) if p.endswith(suffix))[0]
    write(osp.join(folder, path))
    return osp.join(folder, path)


def _copy(src, dst):
    shutil.copytree(src, dst)
    return dst


def tiny_seg_files(p):
    """Write ``p('ade')`` (4 + 2 images), the tiny config ``p('seg.py')`` and a checkpoint that
    fits it, ``p('good.pth')``; return the data root and the checkpoint's state dict."""
    ade = generate_ade20k(p('ade'), num_train=4, num_val=2, seed=1)
    cfg = tiny_seg_cfg(ade, p('work'), max_iters=2)
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', by_epoch=False, interval=1000)
    cfg.dump(p('seg.py'))
    init_default_scope('mmseg')
    model_cfg = cfg.model.copy()
    model_cfg.decode_head.norm_cfg = dict(type='BN', requires_grad=True)
    torch.manual_seed(0)
    sd = MODELS.build(model_cfg).state_dict()
    torch.save(dict(state_dict=sd, meta={}), p('good.pth'))
    return ade, sd


def build_workspace(t):
    """Fill folder ``t``: a tiny config, a checkpoint that fits it, broken copies of everything.

    Args:
        t (str): an empty folder.

    Returns:
        dict: ``t``; ``p`` (joins a path under ``t``); ``ade`` (the intact set); ``bad`` (for each
        fault, the broken file as ``bad[name]`` and its dataset copy as ``bad[name + '_root']``).
    """
    p = lambda *parts: osp.join(t, *parts)  # noqa: E731
    ade, sd = tiny_seg_files(p)
    with open(p('good.pth'), 'rb') as f:
        good = f.read()
    with open(p('trunc.pth'), 'wb') as f:
        f.write(good[: len(good) // 2])
    open(p('zero.pth'), 'wb').close()
    with open(p('junk.pth'), 'w') as f:
        f.write('hello\n')
    backbone = {k: v for k, v in sd.items() if k.startswith('backbone.')}
    torch.save(dict(state_dict=backbone), p('other_task.pth'))
    torch.save({'state_dict': {}, 'meta': _Payload(p('pwned'))}, p('evil.pth'))
    with open(p('not_image.png'), 'w') as f:
        f.write('not an image')
    img = cv2.imread(
        osp.join(ade, 'images/validation', os.listdir(osp.join(ade, 'images/validation'))[0])
    )
    os.makedirs(p('odd_images'))
    cv2.imwrite(p('odd_images', 'gray.png'), cv2.cvtColor(img, cv2.COLOR_BGR2GRAY))
    cv2.imwrite(p('odd_images', 'rgba.png'), cv2.cvtColor(img, cv2.COLOR_BGR2BGRA))
    cv2.imwrite(p('odd_images', 'deep.png'), img.astype(np.uint16) * 257)
    os.makedirs(p('held'))
    torch.save(dict(state_dict=sd, meta={}), p('held', 'iter_2.pth'))
    with open(p('held', 'last_checkpoint'), 'w') as f:
        f.write(p('held', 'iter_2.pth'))
    open(p('earlier.pkl'), 'wb').close()
    with open(p('syntax.py'), 'w') as f:
        f.write('model = dict(\n')
    with open(p('base.py'), 'w') as f:
        f.write("_base_ = ['./no_such_base.py']\n")
    os.makedirs(p('report'))
    for name in ('scaling.md', 'swap_report.md'):
        with open(p('report', name), 'w') as f:
            f.write('an earlier report\n')
    with open(p('earlier.pth'), 'wb') as f:
        f.write(good)
    # Parameter schedulers with one fault each; mmengine builds them when training starts.
    for name, scheduler in [
        ('sched_power', "dict(type='GLPDepthLR', eta_min=0, power=-1, by_epoch=False)"),
        ('sched_no_eta_min', "dict(type='GLPDepthLR', power=-1)"),
        ('sched_converted', "dict(type='GLPDepthLR', power=-1, convert_to_iter_based=True)"),
        ('sched_unknown', "dict(type='GLPDepthLRR', eta_min=0)"),
    ]:
        with open(p(name + '.py'), 'w') as f:
            f.write(f"_base_ = ['./seg.py']\nparam_scheduler = [{scheduler}]\n")

    _hf_export_configs(p)

    # Segmentation sets with one fault each (all in the training split: 2 iterations of batch 2
    # draw every one of the 4 images).
    train_ann = 'annotations/training'
    train_img = 'images/training'
    bad = {}
    for name, rel, write in [
        ('wrong_size', train_ann, lambda f: cv2.imwrite(f, np.ones((32, 32), np.uint8))),
        ('wrong_channels', train_ann, lambda f: cv2.imwrite(f, np.ones((64, 64, 3), np.uint8))),
        ('out_of_range', train_ann, lambda f: cv2.imwrite(f, np.full((64, 64), 200, np.uint8))),
        ('unreadable_ann', train_ann, lambda f: open(f, 'w').write('not a png')),
        ('not_image', train_img, lambda f: open(f, 'w').write('not an image')),
        ('missing_ann', train_ann, os.remove),
    ]:
        root = _copy(ade, p('bad', name))
        bad[name] = _mutate_first(osp.join(root, rel), '.png' if 'ann' in rel else '.jpg', write)
        bad[name + '_root'] = root
    root = _copy(ade, p('bad', 'empty'))
    shutil.rmtree(osp.join(root, train_img))
    os.makedirs(osp.join(root, train_img))
    bad['empty_root'], bad['empty'] = root, osp.join(root, train_img)
    root = _copy(ade, p('bad', 'odd_modes'))
    for i, name in enumerate(sorted(os.listdir(osp.join(root, train_img)))[:3]):
        path = osp.join(root, train_img, name)
        im = cv2.imread(path)
        os.remove(path)
        mode = [
            cv2.cvtColor(im, cv2.COLOR_BGR2GRAY),
            cv2.cvtColor(im, cv2.COLOR_BGR2BGRA),
            im.astype(np.uint16) * 257,
        ][i]
        # PNG keeps the mode; the annotation keeps its name (same stem).
        cv2.imwrite(path[: -len('.jpg')] + '.png', mode)
    bad['odd_modes_root'] = root

    nyu = generate_nyu(p('nyu_src'), num_train=4, num_val=2, seed=2)
    for name, write in [
        ('depth_8bit', lambda f: cv2.imwrite(f, np.full((64, 64), 9, np.uint8))),
        ('depth_size', lambda f: cv2.imwrite(f, np.full((32, 32), 900, np.uint16))),
    ]:
        root = _copy(nyu, p('bad', name))
        bad[name] = _mutate_first(osp.join(root, 'annotations/train'), '.png', write)
        bad[name + '_root'] = root

    coco = generate_coco(p('coco_src'), num_train=4, num_val=2, seed=3)
    for name, edit in [
        ('json_field', lambda ann: ann.pop('bbox')),
        ('json_category', lambda ann: ann.update(category_id=99)),
    ]:
        root = _copy(coco, p('bad', name))
        path = osp.join(root, 'annotations/instances_train2017.json')
        with open(path) as f:
            data = json.load(f)
        edit(data['annotations'][0])
        with open(path, 'w') as f:
            json.dump(data, f)
        bad[name], bad[name + '_root'] = path, root + '/'

    # Classification: a list file with a label outside the 10 classes.
    imagenet = generate_imagenet(p('in_src'), per_class_train=1, per_class_val=1, size=32, seed=4)
    root = _copy(imagenet, p('bad', 'cls_label'))
    path = osp.join(root, 'meta', 'train.txt')
    with open(path) as f:
        lines = f.read().splitlines()
    lines[0] = lines[0].rsplit(' ', 1)[0] + ' 99'
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    bad['cls_label'], bad['cls_label_root'] = path, root

    # Panoptic: an unknown category in the JSON, and a PNG of another size than its image.
    pan = generate_coco_panoptic(p('pan_src'), num_train=4, num_val=2, seed=5)
    root = _copy(pan, p('bad', 'pan_category'))
    path = osp.join(root, 'annotations', 'panoptic_train2017.json')
    with open(path) as f:
        data = json.load(f)
    data['annotations'][0]['segments_info'][0]['category_id'] = 999
    with open(path, 'w') as f:
        json.dump(data, f)
    bad['pan_category'], bad['pan_category_root'] = path, root + '/'
    root = _copy(pan, p('bad', 'pan_png_size'))
    png_dir = osp.join(root, 'annotations', 'panoptic_train2017')
    bad['pan_png_size'] = _mutate_first(
        png_dir, '.png', lambda f: cv2.imwrite(f, np.zeros((32, 32, 3), np.uint8))
    )
    bad['pan_png_size_root'] = root + '/'
    _custom_seg_faults(p, bad)
    return dict(t=t, p=p, ade=ade, bad=bad)


# Test pipelines and data preprocessors that no HF image processor reproduces (export_hf.py);
# the models are exportable otherwise (one LayerNorm eps).
_HF_SEG = "_base_ = ['./seg.py']\nmodel = dict(backbone=dict(layer_norm_eps=1e-5){})\n"
_HF_PIPELINES = {
    'hf_flip': "dict(type='RandomFlip', prob=1.0)",
    'hf_scale_factor': "dict(type='Resize', scale_factor=0.5, keep_ratio=True)",
    'hf_cls_order': "dict(type='ClsCenterCrop', size=64), dict(type='ClsResizeShortEdge', size=64)",
    'hf_cls_interp': "dict(type='ClsResizeShortEdge', size=64, interpolation='area'), "
    "dict(type='ClsCenterCrop', size=64)",
}


def _hf_export_configs(p):
    """``hf_*.py`` on the tiny segmenter (``seg.py``, ``good.pth``), a tiny classifier
    (``cls.py``, ``cls.pth``) and the Deformable DETR quickstart (``det.pth``), one fault each in
    what the HF image processor reproduces."""
    cls = Config.fromfile(
        osp.join(ROOT, 'configs/quickstart/pvtv2-b0_1xb32-12e_synthetic-in1k-64x64.py')
    )
    cls.model.backbone.arch = dict(TINY_ARCH, layer_norm_eps=1e-6)
    cls.dump(p('cls.py'))
    init_default_scope(cls.get('default_scope', 'mmpretrain'))
    torch.manual_seed(0)
    torch.save(dict(state_dict=MODELS.build(cls.model).state_dict(), meta={}), p('cls.pth'))
    for name, steps in _HF_PIPELINES.items():
        base, load, pack = (
            ('cls', 'CheckedLoadImage', 'PackClsInputs')
            if 'cls' in name
            else ('seg', 'LoadImageFromFile', 'PackSegInputs')
        )
        pipeline = f"[dict(type='{load}'), {steps}, dict(type='{pack}')]"
        text = _HF_SEG.format('') if base == 'seg' else "_base_ = ['./cls.py']\n"
        with open(p(name + '.py'), 'w') as f:
            f.write(text + f'test_dataloader = dict(dataset=dict(pipeline={pipeline}))\n')
    with open(p('hf_bgr.py'), 'w') as f:
        f.write(_HF_SEG.format(', data_preprocessor=dict(bgr_to_rgb=False)'))
    # The Deformable DETR quickstart, exportable (GroupNorm 32, one eps), a flip in its test
    # pipeline; its checkpoint fits the model.
    det_qs = (
        'configs/quickstart/deformable-detr-refine_pvtv2-b0_1xb8-600iter_synthetic-coco-64x64.py'
    )
    with open(p('hf_det_flip.py'), 'w') as f:
        f.write(
            f'_base_ = [{osp.join(ROOT, det_qs)!r}]\n'
            'model = dict(backbone=dict(layer_norm_eps=1e-6),\n'
            "             neck=dict(norm_cfg=dict(type='GN', num_groups=32)))\n"
            "test_dataloader = dict(dataset=dict(pipeline=[dict(type='LoadImageFromFile'),\n"
            "    dict(type='RandomFlip', prob=1.0), dict(type='PackDetInputs')]))\n"
        )
    init_default_scope('mmdet')
    torch.manual_seed(0)
    det = MODELS.build(Config.fromfile(p('hf_det_flip.py')).model)
    torch.save(dict(state_dict=det.state_dict(), meta={}), p('det.pth'))


# Your own segmentation data (configs/custom/, CheckedSegDataset): the label traps caught when
# the dataset is built. Each fault is a copy of the custom config with its edit block changed,
# as a user would, and (for some) a set whose label PNGs are rewritten.
CUSTOM_SEG = osp.join(ROOT, 'configs/custom/segformer_pvtv2-b0_1xb8-20k_custom-seg-512x512.py')


def _custom_seg_config(
    path, data_root, classes, palette=None, reduce_zero_label=False, pipeline_reduce=False
):
    with open(CUSTOM_SEG) as f:
        text = f.read()
    palette = palette if palette is not None else [(i, i, i) for i in range(len(classes))]
    edits = [
        ("data_root = 'data/my_seg'", f'data_root = {data_root!r}'),
        ("classes = ('background', 'person', 'car')", f'classes = {tuple(classes)!r}'),
        ('palette = [(0, 0, 0), (220, 20, 60), (0, 0, 142)]', f'palette = {palette!r}'),
        ('reduce_zero_label = False', f'reduce_zero_label = {reduce_zero_label}'),
        ("checkpoint = 'pvt_v2_b0'", 'checkpoint = None'),
    ]
    if pipeline_reduce:
        edits.append(
            (
                "dict(type='LoadAnnotations'),  # reduce_zero_label comes from the dataset",
                "dict(type='LoadAnnotations', reduce_zero_label=True),",
            )
        )
    for old, new in edits:
        assert old in text, f'{CUSTOM_SEG} no longer has {old!r}'
        text = text.replace(old, new)
    with open(path, 'w') as f:
        f.write(text)


def _rewrite_label_maps(root, edit):
    ann = osp.join(root, 'ann_dir', 'train')
    names = sorted(os.listdir(ann))
    for name in names:
        path = osp.join(ann, name)
        edit(path, cv2.imread(path, cv2.IMREAD_UNCHANGED))
    return osp.join(ann, names[0])


def _custom_seg_faults(p, bad):
    two = generate_seg_folder(p('seg2_src'), num_classes=2, num_train=4, num_val=2, seed=6)
    four = generate_seg_folder(p('seg4_src'), num_classes=4, num_train=4, num_val=2, seed=7)
    fg, shapes = ('background', 'foreground'), ('background', 'disc', 'rectangle')
    for name, src, edit, options in [
        ('seg_0_255', two, lambda f, m: cv2.imwrite(f, m * 255), dict(classes=fg)),
        ('seg_reduce_0_1', two, None, dict(classes=fg, reduce_zero_label=True)),
        ('seg_above_classes', four, None, dict(classes=shapes)),
        (
            'seg_colour',
            two,
            lambda f, m: cv2.imwrite(f, cv2.cvtColor(m * 200, cv2.COLOR_GRAY2BGR)),
            dict(classes=fg),
        ),
        (
            'seg_unreadable',
            two,
            lambda f, m: f.endswith('0000.png') and open(f, 'w').write('x'),
            dict(classes=fg),
        ),
        ('seg_pipeline_reduce', two, None, dict(classes=fg, pipeline_reduce=True)),
        ('seg_no_classes', two, None, dict(classes=())),
        ('seg_palette', two, None, dict(classes=fg, palette=[(0, 0, 0)])),
    ]:
        root = _copy(src, p('bad', name))
        first = _rewrite_label_maps(root, edit) if edit else None
        _custom_seg_config(p(name + '.py'), root, **options)
        bad[name], bad[name + '_root'] = first, root


class _Payload:
    """Unpickling this would create a file; the checks make sure it never happens."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}',))
