# Mask R-CNN + PVTv2-b2 + FPN, COCO instances, 3x schedule with multi-scale training and random
# crops (DETR's augmentation): whai362/PVT's mask_rcnn_pvt_v2_b2_fpn_3x_mstrain.py on mmdet 3.3,
# written as mmdet writes the same recipe for Swin (mask-rcnn_swin-t-p4-w7_fpn_ms-crop-3x_coco.py).
_base_ = [
    '../_base_/models/mask-rcnn_pvtv2-b0_fpn.py',
    '../_base_/datasets/coco_instance_ms-crop.py',
    '../_base_/schedules/schedule_det_3x_adamw.py',
    '../_base_/default_runtime_det.py',
]
model = dict(
    backbone=dict(arch='b2', init_cfg=dict(type='Pretrained', checkpoint='pvt_v2_b2')),
    neck=dict(in_channels=[64, 128, 320, 512]),
)
