"""Shared pieces of the panoptic tests: a tiny Panoptic SegFormer config on the synthetic set."""

import os.path as osp

from mmengine.config import Config

from .common import ROOT, TINY_ARCH, point_loaders_at

PAN_QUICKSTART = osp.join(
    ROOT,
    'configs/quickstart/panoptic-segformer_pvtv2-b0_1xb8-800iter_synthetic-coco-panoptic-64x64.py',
)
EMBED = 32


def tiny_panoptic_model(cfg):
    """Shrink ``cfg.model`` (the quickstart's) to a model that runs in milliseconds."""
    model = cfg.model
    model.backbone.arch = dict(TINY_ARCH)
    model.neck.in_channels = TINY_ARCH['hidden_sizes'][1:]
    model.neck.out_channels = EMBED
    model.neck.norm_cfg = dict(type='GN', num_groups=8)
    model.num_queries = 10
    attn = dict(embed_dims=EMBED, num_heads=2)
    ffn = dict(embed_dims=EMBED, feedforward_channels=64)
    model.encoder.num_layers = 1
    model.encoder.layer_cfg.self_attn_cfg.update(attn)
    model.encoder.layer_cfg.ffn_cfg.update(ffn)
    model.decoder.layer_cfg.self_attn_cfg.update(attn)
    model.decoder.layer_cfg.cross_attn_cfg.update(attn)
    model.decoder.layer_cfg.ffn_cfg.update(ffn)
    model.positional_encoding.num_feats = EMBED // 2
    model.bbox_head.embed_dims = EMBED
    model.bbox_head.thing_mask_decoder.update(num_heads=2, num_layers=2)
    model.bbox_head.stuff_mask_decoder.update(num_heads=2, num_layers=2)
    model.test_cfg.max_per_img = 10
    return cfg


def tiny_panoptic_cfg(data_root, work_dir, max_iters=4):
    """The panoptic quickstart config, tiny, on ``data_root``, for a few fast iterations."""
    cfg = tiny_panoptic_model(Config.fromfile(PAN_QUICKSTART))
    cfg.work_dir = str(work_dir)
    root = data_root.rstrip('/') + '/'
    point_loaders_at(cfg, root)
    for evaluator in ('val_evaluator', 'test_evaluator'):
        cfg[evaluator].ann_file = root + 'annotations/panoptic_val2017.json'
        cfg[evaluator].seg_prefix = root + 'annotations/panoptic_val2017/'
    cfg.train_dataloader.batch_size = 2
    cfg.val_dataloader.batch_size = cfg.test_dataloader.batch_size = 2
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=1000)
    cfg.param_scheduler = []
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', by_epoch=False, interval=max_iters)
    cfg.default_hooks.logger.interval = 1
    # mmengine reuses a visualizer by name, with the folder of its first run: one per run here.
    cfg.visualizer.name = f'visualizer_{work_dir}'
    return cfg
