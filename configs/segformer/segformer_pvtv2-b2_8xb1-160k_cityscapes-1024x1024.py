# b2-b5: E = 768.
_base_ = ['./segformer_pvtv2-b0_8xb1-160k_cityscapes-1024x1024.py']
checkpoint = 'pvt_v2_b2'
model = dict(
    backbone=dict(arch='b2', init_cfg=dict(checkpoint=checkpoint)),
    decode_head=dict(in_channels=[64, 128, 320, 512], channels=768),
)
