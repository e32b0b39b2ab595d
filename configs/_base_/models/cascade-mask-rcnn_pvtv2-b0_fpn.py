# Cascade Mask R-CNN (mmdet's CascadeRCNN, three stages) on a PVTv2-b0 backbone: mmdet 3.3's
# cascade-mask-rcnn_r50_fpn (the settings of whai362/PVT's
# detection/configs/_base_/models/cascade_mask_rcnn_pvtv2_b2_fpn.py) written over our Mask R-CNN,
# which shares the preprocessor, backbone, FPN, RPN, RoI extractors and mask head. Swapping the
# backbone means setting `arch` and, when the widths change, `neck.in_channels`.
_base_ = ['./mask-rcnn_pvtv2-b0_fpn.py']
# Per-stage box-regression targets and IoU thresholds of the three cascade stages.
_stage_stds = [[0.1, 0.1, 0.2, 0.2], [0.05, 0.05, 0.1, 0.1], [0.033, 0.033, 0.067, 0.067]]
_stage_ious = [0.5, 0.6, 0.7]
model = dict(
    type='CascadeRCNN',
    rpn_head=dict(
        loss_bbox=dict(_delete_=True, type='SmoothL1Loss', beta=1.0 / 9.0, loss_weight=1.0)
    ),
    roi_head=dict(
        type='CascadeRoIHead',
        num_stages=3,
        stage_loss_weights=[1, 0.5, 0.25],
        bbox_head=[
            dict(
                type='Shared2FCBBoxHead',
                in_channels=256,
                fc_out_channels=1024,
                roi_feat_size=7,
                num_classes=80,
                bbox_coder=dict(
                    type='DeltaXYWHBBoxCoder', target_means=[0.0, 0.0, 0.0, 0.0], target_stds=stds
                ),
                reg_class_agnostic=True,
                loss_cls=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
                loss_bbox=dict(type='SmoothL1Loss', beta=1.0, loss_weight=1.0),
            )
            for stds in _stage_stds
        ],
    ),
    train_cfg=dict(
        rpn=dict(allowed_border=0),
        rpn_proposal=dict(max_per_img=2000),
        rcnn=[
            dict(
                assigner=dict(
                    type='MaxIoUAssigner',
                    pos_iou_thr=iou,
                    neg_iou_thr=iou,
                    min_pos_iou=iou,
                    match_low_quality=False,
                    ignore_iof_thr=-1,
                ),
                sampler=dict(
                    type='RandomSampler',
                    num=512,
                    pos_fraction=0.25,
                    neg_pos_ub=-1,
                    add_gt_as_proposals=True,
                ),
                mask_size=28,
                pos_weight=-1,
                debug=False,
            )
            for iou in _stage_ious
        ],
    ),
)
