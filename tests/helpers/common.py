"""Paths, the tiny PVTv2 and the tiny segmentation config shared by the tests."""

import hashlib
import os
import os.path as osp

from mmengine.config import Config

import pvtv2_dense  # noqa: F401  (registers modules, installs safe loading)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SEG_QUICKSTART = osp.join(
    ROOT, 'configs/quickstart/segformer_pvtv2-b0_1xb8-600iter_synthetic-ade-64x64.py'
)

# What the depth metric reports.
DEPTH_METRICS = {'d1', 'd2', 'd3', 'abs_rel', 'sq_rel', 'rmse', 'rmse_log', 'log10', 'silog'}

# A PVTv2 small enough for tests: few channels, one block per stage.
TINY_ARCH = dict(
    hidden_sizes=[8, 16, 32, 32], depths=[1, 1, 1, 1], num_attention_heads=[1, 2, 2, 4]
)


def tree_digest(root):
    """sha256 of every file under ``root``: relative paths and bytes, in a fixed order."""
    digest = hashlib.sha256()
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            path = osp.join(folder, name)
            digest.update(osp.relpath(path, root).encode())
            with open(path, 'rb') as f:
                digest.update(f.read())
    return digest.hexdigest()


def point_loaders_at(cfg, data_root):
    """Every train/val/test loader of ``cfg`` reads ``data_root`` in the main process."""
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = data_root
        cfg[loader].num_workers = 0
        cfg[loader].persistent_workers = False


def tiny_seg_cfg(data_root, work_dir, max_iters=4, **overrides):
    """The segmentation quickstart config shrunk to a few fast iterations."""
    cfg = Config.fromfile(SEG_QUICKSTART)
    cfg.work_dir = str(work_dir)
    cfg.model.backbone.arch = TINY_ARCH
    cfg.model.decode_head.in_channels = TINY_ARCH['hidden_sizes']
    cfg.model.decode_head.channels = 16
    point_loaders_at(cfg, data_root)
    cfg.train_dataloader.batch_size = 2
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=1000)
    cfg.param_scheduler = []
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', by_epoch=False, interval=2)
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.visualization = dict(type='SegVisualizationHook')
    # mmengine reuses a visualizer by name, with the folder of its first run: one per run here.
    cfg.visualizer.name = f'visualizer_{work_dir}'
    cfg.merge_from_dict(overrides)
    return cfg
