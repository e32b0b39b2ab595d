# GFL + PVTv2-b2 + FPN, COCO 2017, 3x with multi-scale + crop training: whai362/PVT's
# detection/configs/gfl_pvt_v2_b2_fpn_3x_mstrain_fp16.py on mmdet 3.3's GFL. The model is ATSS's
# with the GFL head (quality focal loss, distribution focal loss, reg_max 16), as mmdet's
# gfl_r50_fpn_1x_coco.py and the official config have it.
_base_ = '../atss/atss_pvtv2-b2_fpn_ms-crop-3x_coco.py'
model = dict(
    type='GFL',
    bbox_head=dict(
        _delete_=True,
        type='GFLHead',
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
        loss_cls=dict(type='QualityFocalLoss', use_sigmoid=True, beta=2.0, loss_weight=1.0),
        loss_dfl=dict(type='DistributionFocalLoss', loss_weight=0.25),
        reg_max=16,
        loss_bbox=dict(type='GIoULoss', loss_weight=2.0),
    ),
)
