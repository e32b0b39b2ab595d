# Cascade Mask R-CNN + PVTv2-b2 + FPN, COCO 2017 instances, 3x with multi-scale + crop training in
# mixed precision: whai362/PVT's detection/configs/
# cascade_mask_rcnn_pvt_v2_b2_fpn_3x_mstrain_fp16.py on mmdet 3.3, written as mmdet writes the same
# heads and augmentation for ConvNeXt
# (cascade-mask-rcnn_convnext-t-p4-w7_fpn_4conv1fc-giou_amp-ms-crop-3x_coco.py).
_base_ = [
    '../_base_/models/cascade-mask-rcnn_pvtv2-b0_fpn.py',
    '../_base_/datasets/coco_instance_ms-crop.py',
    '../_base_/schedules/schedule_det_3x_adamw.py',
    '../_base_/default_runtime_det.py',
]
_stage_stds = [[0.1, 0.1, 0.2, 0.2], [0.05, 0.05, 0.1, 0.1], [0.033, 0.033, 0.067, 0.067]]
model = dict(
    backbone=dict(arch='b2', init_cfg=dict(type='Pretrained', checkpoint='pvt_v2_b2')),
    neck=dict(in_channels=[64, 128, 320, 512]),
    # Four shared convs + one fc per stage, class-specific regression of decoded boxes with GIoU.
    # LocalSyncBN is the official SyncBN in multi-process GPU runs and plain BN in one process.
    roi_head=dict(
        bbox_head=[
            dict(
                type='ConvFCBBoxHead',
                num_shared_convs=4,
                num_shared_fcs=1,
                in_channels=256,
                conv_out_channels=256,
                fc_out_channels=1024,
                roi_feat_size=7,
                num_classes=80,
                bbox_coder=dict(
                    type='DeltaXYWHBBoxCoder', target_means=[0.0, 0.0, 0.0, 0.0], target_stds=stds
                ),
                reg_class_agnostic=False,
                reg_decoded_bbox=True,
                norm_cfg=dict(type='LocalSyncBN', requires_grad=True),
                loss_cls=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
                loss_bbox=dict(type='GIoULoss', loss_weight=10.0),
            )
            for stds in _stage_stds
        ]
    ),
)
# The official runs trained in mixed precision (apex fp16); AmpOptimWrapper is mmengine's.
optim_wrapper = dict(type='AmpOptimWrapper')
