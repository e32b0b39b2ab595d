# Sparse R-CNN (300 proposals) + PVTv2-b2 + FPN, COCO 2017, 3x with multi-scale + crop training:
# whai362/PVT's sparse_rcnn_pvt_v2_b2_fpn_300_proposals_crop_mstrain_480-800_3x_coco.py on mmdet
# 3.3's Sparse R-CNN (the model of mmdet's sparse-rcnn_r50_fpn_300-proposals_crop-ms-480-800-3x).
_base_ = [
    '../_base_/datasets/coco_detection_ms-crop.py',
    '../_base_/schedules/schedule_det_3x_adamw.py',
    '../_base_/default_runtime_det.py',
]
num_stages = 6
num_proposals = 300
model = dict(
    type='SparseRCNN',
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
    neck=dict(
        type='FPN',
        in_channels=[64, 128, 320, 512],
        out_channels=256,
        start_level=0,
        add_extra_convs='on_input',
        num_outs=4,
    ),
    rpn_head=dict(
        type='EmbeddingRPNHead', num_proposals=num_proposals, proposal_feature_channel=256
    ),
    roi_head=dict(
        type='SparseRoIHead',
        num_stages=num_stages,
        stage_loss_weights=[1] * num_stages,
        proposal_feature_channel=256,
        bbox_roi_extractor=dict(
            type='SingleRoIExtractor',
            roi_layer=dict(type='RoIAlign', output_size=7, sampling_ratio=2),
            out_channels=256,
            featmap_strides=[4, 8, 16, 32],
        ),
        bbox_head=[
            dict(
                type='DIIHead',
                num_classes=80,
                num_ffn_fcs=2,
                num_heads=8,
                num_cls_fcs=1,
                num_reg_fcs=3,
                feedforward_channels=2048,
                in_channels=256,
                dropout=0.0,
                ffn_act_cfg=dict(type='ReLU', inplace=True),
                dynamic_conv_cfg=dict(
                    type='DynamicConv',
                    in_channels=256,
                    feat_channels=64,
                    out_channels=256,
                    input_feat_shape=7,
                    act_cfg=dict(type='ReLU', inplace=True),
                    norm_cfg=dict(type='LN'),
                ),
                loss_bbox=dict(type='L1Loss', loss_weight=5.0),
                loss_iou=dict(type='GIoULoss', loss_weight=2.0),
                loss_cls=dict(
                    type='FocalLoss', use_sigmoid=True, gamma=2.0, alpha=0.25, loss_weight=2.0
                ),
                bbox_coder=dict(
                    type='DeltaXYWHBBoxCoder',
                    clip_border=False,
                    target_means=[0.0, 0.0, 0.0, 0.0],
                    target_stds=[0.5, 0.5, 1.0, 1.0],
                ),
            )
            for _ in range(num_stages)
        ],
    ),
    train_cfg=dict(
        rpn=None,
        rcnn=[
            dict(
                assigner=dict(
                    type='HungarianAssigner',
                    match_costs=[
                        dict(type='FocalLossCost', weight=2.0),
                        dict(type='BBoxL1Cost', weight=5.0, box_format='xyxy'),
                        dict(type='IoUCost', iou_mode='giou', weight=2.0),
                    ],
                ),
                sampler=dict(type='PseudoSampler'),
                pos_weight=1,
            )
            for _ in range(num_stages)
        ],
    ),
    test_cfg=dict(rpn=None, rcnn=dict(max_per_img=num_proposals)),
)
# The official optimizer: AdamW lr 2.5e-5 / 1.4, weight decay 1e-4, gradient clipping 1.0, for
# 8 GPUs x 1 image (mmdet's R-50 recipe: 2.5e-5 for 8 x 2).
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=2.5e-5 / 1.4, weight_decay=1e-4),
    clip_grad=dict(max_norm=1, norm_type=2),
)
train_dataloader = dict(batch_size=1, num_workers=1)
auto_scale_lr = dict(base_batch_size=8)
