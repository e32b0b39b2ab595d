_base_ = './glpn_pvtv2-b0_4xb3-25e_nyu-448x576.py'
model = dict(
    backbone=dict(arch='b1', init_cfg=dict(type='Pretrained', checkpoint='pvt_v2_b1')),
    decode_head=dict(in_channels=[64, 128, 320, 512]),
)
