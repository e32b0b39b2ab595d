# RetinaNet + PVTv2-b1 + FPN, COCO 1x. b1-b5 share the stage widths 64/128/320/512.
_base_ = './retinanet_pvtv2-b0_fpn_1x_coco.py'
model = dict(
    backbone=dict(arch='b1', init_cfg=dict(checkpoint='pvt_v2_b1')),
    neck=dict(in_channels=[64, 128, 320, 512]),
)
