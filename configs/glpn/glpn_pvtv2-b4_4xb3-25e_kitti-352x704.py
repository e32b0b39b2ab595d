_base_ = './glpn_pvtv2-b0_4xb3-25e_kitti-352x704.py'
model = dict(
    backbone=dict(arch='b4', init_cfg=dict(type='Pretrained', checkpoint='pvt_v2_b4')),
    decode_head=dict(in_channels=[64, 128, 320, 512]),
)
