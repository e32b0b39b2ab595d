# b2-b5: E = 768.
_base_ = ['./segformer_pvtv2-b0_8xb2-160k_ade20k-512x512.py']
checkpoint = 'pvt_v2_b2'
model = dict(
    backbone=dict(arch='b2', init_cfg=dict(checkpoint=checkpoint)),
    decode_head=dict(in_channels=[64, 128, 320, 512], channels=768),
)
