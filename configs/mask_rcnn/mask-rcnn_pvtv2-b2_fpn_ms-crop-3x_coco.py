# Mask R-CNN + PVTv2-b2 + FPN, COCO instances, 3x schedule with multi-scale training and random
# crops (DETR's augmentation): whai362/PVT's mask_rcnn_pvt_v2_b2_fpn_3x_mstrain.py on mmdet 3.3,
# written as mmdet writes the same recipe for Swin (mask-rcnn_swin-t-p4-w7_fpn_ms-crop-3x_coco.py).
_base_ = './mask-rcnn_pvtv2-b2_fpn_1x_coco.py'
_scales = [(480, 1333), (512, 1333), (544, 1333), (576, 1333), (608, 1333), (640, 1333),
           (672, 1333), (704, 1333), (736, 1333), (768, 1333), (800, 1333)]  # fmt: skip
train_pipeline = [
    dict(type='LoadImageFromFile', color_type='color', backend_args={{_base_.backend_args}}),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='RandomFlip', prob=0.5),
    dict(
        type='RandomChoice',
        transforms=[
            [dict(type='RandomChoiceResize', scales=_scales, keep_ratio=True)],
            [
                dict(
                    type='RandomChoiceResize',
                    scales=[(400, 1333), (500, 1333), (600, 1333)],
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
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
# AdamW lr 1e-4, weight decay 0.05, no decay on norms (the Swin keys of the official config
# match nothing in PVTv2 and are kept as written); 36 epochs, lr x0.1 after epochs 27 and 33.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.05),
    paramwise_cfg=dict(
        custom_keys={
            'absolute_pos_embed': dict(decay_mult=0.0),
            'relative_position_bias_table': dict(decay_mult=0.0),
            'norm': dict(decay_mult=0.0),
        }
    ),
)
max_epochs = 36
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500),
    dict(
        type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True, milestones=[27, 33], gamma=0.1
    ),
]
