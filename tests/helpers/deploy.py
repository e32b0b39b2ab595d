"""Tiny configs and checkpoints of every exportable task, written as a user would have them."""

import os.path as osp

import torch
from mmengine.config import Config
from mmengine.registry import MODELS, init_default_scope

from pvtv2_dense.deploy.plain import plain_model_cfg

from .common import ROOT, TINY_ARCH

SEG_BASE = osp.join(ROOT, 'configs/segformer/segformer_pvtv2-b0_8xb2-160k_ade20k-512x512.py')
GLPN_BASE = osp.join(ROOT, 'configs/glpn/glpn_pvtv2-b0_4xb3-25e_nyu-448x576.py')
DET_BASE = osp.join(
    ROOT, 'configs/quickstart/deformable-detr-refine_pvtv2-b0_1xb8-600iter_synthetic-coco-64x64.py'
)
LINEAR_ARCH = dict(TINY_ARCH, linear_attention=True)

# name: (config text, registry scope)
TASKS = {
    'segformer': (
        f'_base_ = [{SEG_BASE!r}]\n'
        f'model = dict(backbone=dict(arch=dict(_delete_=True, **{TINY_ARCH!r})),\n'
        f'    decode_head=dict(in_channels={TINY_ARCH["hidden_sizes"]!r}, channels=16))\n',
        'mmseg',
    ),
    'segformer_linear_sra': (
        f'_base_ = [{SEG_BASE!r}]\n'
        f'model = dict(backbone=dict(arch=dict(_delete_=True, **{LINEAR_ARCH!r})),\n'
        f'    decode_head=dict(in_channels={TINY_ARCH["hidden_sizes"]!r}, channels=16))\n',
        'mmseg',
    ),
    'glpn': (
        f'_base_ = [{GLPN_BASE!r}]\n'
        f'model = dict(backbone=dict(arch=dict(_delete_=True, **{TINY_ARCH!r})),\n'
        f'    decode_head=dict(in_channels={TINY_ARCH["hidden_sizes"]!r}, channels=16))\n',
        'mmseg',
    ),
    'classifier': (
        "default_scope = 'mmseg'\n"
        "custom_imports = dict(imports=['pvtv2_dense'], allow_failed_imports=False)\n"
        "model = dict(type='PVTv2ImageClassifier', num_classes=5,\n"
        f"    backbone=dict(type='PVTv2', arch={LINEAR_ARCH!r},\n"
        "                  attn_impl='auto', ffn_impl='auto'))\n",
        'mmseg',
    ),
    'deformable_detr': (
        f'_base_ = [{DET_BASE!r}]\n'
        f'model = dict(backbone=dict(arch=dict(_delete_=True, **{TINY_ARCH!r})),\n'
        f'    neck=dict(in_channels={TINY_ARCH["hidden_sizes"][1:]!r}))\n',
        'mmdet',
    ),
}


def randomise(model, seed=0):
    """Random weights and batch-norm statistics everywhere, so that every tensor matters."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn(p.shape, generator=g) * 0.05)
        for name, b in model.named_buffers():
            if name.endswith('running_var'):
                b.uniform_(0.5, 1.5, generator=g)
            elif name.endswith('running_mean'):
                b.normal_(0, 0.1, generator=g)
    return model


def write_task(tmp_path, task, seed=0, options=None):
    """Write the task's config (with ``options``, dotted keys, merged in) and a checkpoint of
    its (random) weights, saved from the config's own (fast) model as training would; returns
    (config path, checkpoint path)."""
    text, scope = TASKS[task]
    config = tmp_path / f'{task}.py'
    config.write_text(text)
    cfg = Config.fromfile(str(config))
    if options:
        cfg.merge_from_dict(options)
        cfg.dump(str(config))
    init_default_scope(scope)
    model_cfg = cfg.model
    if task == 'deformable_detr':  # build without the pretrained file
        model_cfg = plain_model_cfg(model_cfg)
    model = MODELS.build(model_cfg)
    if task == 'deformable_detr':  # some of its parameters hold uninitialised memory until then
        model.init_weights()
    randomise(model, seed)
    checkpoint = tmp_path / f'{task}.pth'
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, checkpoint)
    return str(config), str(checkpoint)
