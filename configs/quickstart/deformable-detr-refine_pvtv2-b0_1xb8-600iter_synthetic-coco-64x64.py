# Quickstart: Deformable DETR (+ box refinement) on PVTv2-b0, trained from scratch on the
# synthetic COCO-layout shapes set and evaluated with COCO bbox mAP on held-out images.
# A slimmer transformer than the COCO recipe (128 dims, 2+2 layers, 30 queries) so that it
# trains in minutes on a CPU.
_base_ = [
    '../_base_/models/deformable-detr_pvtv2-b0.py',
    '../_base_/datasets/synthetic_coco.py',
    '../_base_/default_runtime_det.py',
]
embed_dims = 128
num_heads = 4
ffn = 256
model = dict(
    num_queries=30,
    with_box_refine=True,
    neck=dict(out_channels=embed_dims, norm_cfg=dict(type='GN', num_groups=16)),
    encoder=dict(
        num_layers=2,
        layer_cfg=dict(
            self_attn_cfg=dict(embed_dims=embed_dims, num_heads=num_heads),
            ffn_cfg=dict(embed_dims=embed_dims, feedforward_channels=ffn, ffn_drop=0.0),
        ),
    ),
    decoder=dict(
        num_layers=2,
        layer_cfg=dict(
            self_attn_cfg=dict(embed_dims=embed_dims, num_heads=num_heads, dropout=0.0),
            cross_attn_cfg=dict(embed_dims=embed_dims, num_heads=num_heads),
            ffn_cfg=dict(embed_dims=embed_dims, feedforward_channels=ffn, ffn_drop=0.0),
        ),
    ),
    positional_encoding=dict(num_feats=embed_dims // 2),
    bbox_head=dict(num_classes=3, embed_dims=embed_dims),
    test_cfg=dict(max_per_img=30),
)
# No pretrained backbone here, so it learns at the full lr; the deformable sampling keeps x0.1.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-3, weight_decay=1e-4),
    clip_grad=dict(max_norm=1.0, norm_type=2),
    paramwise_cfg=dict(
        custom_keys={
            'sampling_offsets': dict(lr_mult=0.1),
            'reference_points': dict(lr_mult=0.1),
        }
    ),
)
max_iters = 600
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=300)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=100),
    dict(type='MultiStepLR', by_epoch=False, begin=0, end=max_iters, milestones=[500], gamma=0.1),
]
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    checkpoint=dict(type='SafeCheckpointHook', by_epoch=False, interval=300, max_keep_ckpts=1),
)
log_processor = dict(by_epoch=False)
randomness = dict(seed=0)
