# Panoptic SegFormer + PVTv2-b0 on COCO panoptic, 24 epochs (2x): the official recipe
# (github.com/zhiqi-li/Panoptic-SegFormer, configs/panformer/base.py) on PVTv2 stages 1-3.
_base_ = [
    '../_base_/models/panoptic-segformer_pvtv2-b0.py',
    '../_base_/datasets/coco_panoptic.py',
    '../_base_/default_runtime_panoptic.py',
    '../_base_/tta/detr_3scale-flip.py',
]
model = dict(
    backbone=dict(
        drop_path_rate=0.1,
        # ImageNet-1K weights from whai362/PVT (any format pvtv2_dense converts; see README).
        init_cfg=dict(type='Pretrained', checkpoint='pvt_v2_b0'),
    )
)

# DETR's multi-scale training: short side 480-800 (step 32, long side <= 1333), or a 400-600
# resize, a 384-600 random crop and the same multi-scale resize; flips first, as the official.
_scales = [
    (480, 1333),
    (512, 1333),
    (544, 1333),
    (576, 1333),
    (608, 1333),
    (640, 1333),
    (672, 1333),
    (704, 1333),
    (736, 1333),
    (768, 1333),
    (800, 1333),
]
train_pipeline = [
    dict(type='LoadImageFromFile', color_type='color', backend_args={{_base_.backend_args}}),
    dict(type='CheckedLoadPanopticAnnotations', backend_args={{_base_.backend_args}}),
    dict(type='RandomFlip', prob=0.5),
    dict(
        type='RandomChoice',
        transforms=[
            [dict(type='RandomChoiceResize', scales=_scales, keep_ratio=True)],
            [
                dict(
                    type='RandomChoiceResize',
                    scales=[(400, 4200), (500, 4200), (600, 4200)],
                    keep_ratio=True,
                ),
                dict(
                    type='RandomCrop',
                    crop_type='absolute_range',
                    crop_size=(384, 600),
                    allow_negative_crop=True,
                ),
                dict(type='RandomChoiceResize', scales=_scales, keep_ratio=True),
            ],
        ],
    ),
    dict(type='PackDetInputs'),
]
train_dataloader = dict(
    dataset=dict(filter_cfg=dict(filter_empty_gt=False), pipeline=train_pipeline)
)

# AdamW 1.4e-4, weight decay 1e-4, gradient clipping 0.1; lr x0.1 on the backbone and on the
# deformable attention's sampling offsets and reference points.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1.4e-4, weight_decay=1e-4),
    clip_grad=dict(max_norm=0.1, norm_type=2),
    paramwise_cfg=dict(
        custom_keys={
            'backbone': dict(lr_mult=0.1),
            'sampling_offsets': dict(lr_mult=0.1),
            'reference_points': dict(lr_mult=0.1),
        }
    ),
)
max_epochs = 24
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
param_scheduler = [
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True, milestones=[18], gamma=0.1)
]
# The lr above is for 8 GPUs x 1 image; with --auto-scale-lr it scales to the actual batch.
auto_scale_lr = dict(enable=False, base_batch_size=8)

# Test-time augmentation (tools/test.py --tta; the passes: _base_/tta/detr_3scale-flip.py):
# panoptic maps of the 6 passes merged by per-pixel class voting (PanopticTTAModel); the first
# pass (800, no flip) is the anchor that wins ties and keeps its segments. docs/evaluation.md.
tta_model = dict(type='PanopticTTAModel')
