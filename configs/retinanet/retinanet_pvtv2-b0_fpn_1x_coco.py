# RetinaNet + PVTv2-b0 + FPN, COCO 2017, 1x schedule: whai362/PVT's
# detection/configs/retinanet_pvt_v2_b0_fpn_1x_coco.py, as mmdet 3.3 ships it in configs/pvt.
_base_ = [
    '../_base_/models/retinanet_pvtv2-b0_fpn.py',
    '../_base_/datasets/coco_detection.py',
    '../_base_/schedules/schedule_det_1x.py',
    '../_base_/default_runtime_det.py',
]
model = dict(
    backbone=dict(
        # ImageNet-1K weights from whai362/PVT (any format pvtv2_dense converts; see README).
        init_cfg=dict(type='Pretrained', checkpoint='pvt_v2_b0')
    )
)
# AdamW lr 1e-4, weight decay 1e-4, no gradient clipping; 8 GPUs x 2 images.
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=1e-4, weight_decay=1e-4))
