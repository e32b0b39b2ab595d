# Semantic FPN + PVTv2-b1, ADE20K 40k. b1-b5 share the stage widths 64/128/320/512.
_base_ = './fpn_pvtv2-b0_8xb4-40k_ade20k-512x512.py'
model = dict(
    backbone=dict(arch='b1', init_cfg=dict(checkpoint='pvt_v2_b1')),
    neck=dict(in_channels=[64, 128, 320, 512]),
)
