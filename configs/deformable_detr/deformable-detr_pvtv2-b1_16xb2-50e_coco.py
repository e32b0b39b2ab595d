# Deformable DETR + PVTv2-b1, COCO 50 epochs: b0's config with the wider b1 stages.
_base_ = './deformable-detr_pvtv2-b0_16xb2-50e_coco.py'
pvt_widths = [64, 128, 320, 512]  # hidden sizes of PVTv2-b1..b5, stages 0-3
model = dict(
    backbone=dict(arch='b1', init_cfg=dict(checkpoint='pvt_v2_b1')),
    neck=dict(in_channels=pvt_widths[1:]),  # the backbone returns stages 1-3
)
