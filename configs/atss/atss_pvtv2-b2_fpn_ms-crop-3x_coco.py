# ATSS + PVTv2-b2 + FPN, COCO 2017, 3x with multi-scale + crop training: whai362/PVT's
# detection/configs/atss_pvt_v2_b2_fpn_3x_mstrain_fp16.py on mmdet 3.3's ATSS (the head, assigner
# and test settings of mmdet's atss_r50_fpn_1x_coco.py, which the official config repeats).
_base_ = [
    '../_base_/datasets/coco_detection_ms-crop.py',
    '../_base_/schedules/schedule_det_3x_adamw.py',
    '../_base_/default_runtime_det.py',
]
model = dict(
    type='ATSS',
    data_preprocessor=dict(
        type='DetDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_size_divisor=32,
    ),
    backbone=dict(
        type='PVTv2',
        arch='b2',
        drop_path_rate=0.1,
        out_indices=(0, 1, 2, 3),
        attn_impl='auto',
        ffn_impl='auto',
        init_cfg=dict(type='Pretrained', checkpoint='pvt_v2_b2'),
    ),
    # Stages 1-3 (strides 8-32) plus P6, P7 from P5 (add_extra_convs='on_output').
    neck=dict(
        type='FPN',
        in_channels=[64, 128, 320, 512],
        out_channels=256,
        start_level=1,
        add_extra_convs='on_output',
        num_outs=5,
    ),
    bbox_head=dict(
        type='ATSSHead',
        num_classes=80,
        in_channels=256,
        stacked_convs=4,
        feat_channels=256,
        anchor_generator=dict(
            type='AnchorGenerator',
            ratios=[1.0],
            octave_base_scale=8,
            scales_per_octave=1,
            strides=[8, 16, 32, 64, 128],
        ),
        bbox_coder=dict(
            type='DeltaXYWHBBoxCoder',
            target_means=[0.0, 0.0, 0.0, 0.0],
            target_stds=[0.1, 0.1, 0.2, 0.2],
        ),
        loss_cls=dict(type='FocalLoss', use_sigmoid=True, gamma=2.0, alpha=0.25, loss_weight=1.0),
        loss_bbox=dict(type='GIoULoss', loss_weight=2.0),
        loss_centerness=dict(type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0),
    ),
    train_cfg=dict(
        assigner=dict(type='ATSSAssigner', topk=9), allowed_border=-1, pos_weight=-1, debug=False
    ),
    test_cfg=dict(
        nms_pre=1000,
        min_bbox_size=0,
        score_thr=0.05,
        nms=dict(type='nms', iou_threshold=0.6),
        max_per_img=100,
    ),
)
# The official run trained in mixed precision (apex fp16); AmpOptimWrapper is mmengine's.
optim_wrapper = dict(type='AmpOptimWrapper')
