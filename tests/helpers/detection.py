"""The detection quickstart shrunk to a tiny model, shared by the detection tool tests."""

import os.path as osp

from mmengine.config import Config

from .common import ROOT, TINY_ARCH, point_loaders_at

DET_QUICKSTART = osp.join(
    ROOT, 'configs/quickstart/deformable-detr-refine_pvtv2-b0_1xb8-600iter_synthetic-coco-64x64.py'
)


def tiny_det_cfg(data_root, work_dir, **overrides):
    """The detection quickstart shrunk to a tiny model that trains one short epoch."""
    cfg = Config.fromfile(DET_QUICKSTART)
    cfg.work_dir = str(work_dir)
    embed = 32
    cfg.model.backbone.arch = TINY_ARCH
    cfg.model.neck.in_channels = TINY_ARCH['hidden_sizes'][1:]
    cfg.model.neck.out_channels = embed
    cfg.model.neck.norm_cfg.num_groups = 8
    cfg.model.num_queries = 10
    cfg.model.test_cfg.max_per_img = 10
    for coder in (cfg.model.encoder, cfg.model.decoder):
        coder.num_layers = 1
        for name in ('self_attn_cfg', 'cross_attn_cfg'):
            if name in coder.layer_cfg:
                coder.layer_cfg[name].embed_dims = embed
                coder.layer_cfg[name].num_heads = 2
        coder.layer_cfg.ffn_cfg.embed_dims = embed
        coder.layer_cfg.ffn_cfg.feedforward_channels = 64
    cfg.model.positional_encoding.num_feats = embed // 2
    cfg.model.bbox_head.embed_dims = embed
    root = data_root.rstrip('/') + '/'
    point_loaders_at(cfg, root)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].batch_size = 2
    # One ordered epoch, so every image (the odd ones included) goes through training.
    cfg.train_dataloader.sampler = dict(type='DefaultSampler', shuffle=False)
    cfg.train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=1, val_interval=100)
    cfg.param_scheduler = []
    cfg.val_evaluator.ann_file = cfg.test_evaluator.ann_file = (
        root + 'annotations/instances_val2017.json'
    )
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', by_epoch=True, interval=1)
    cfg.default_hooks.logger.interval = 1
    cfg.log_processor = dict(by_epoch=True)
    cfg.merge_from_dict(overrides)
    return cfg
