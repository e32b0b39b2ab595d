_base_ = ['./segformer_pvtv2-b2_8xb2-160k_ade20k-512x512.py']
checkpoint = 'pvt_v2_b2_li'
model = dict(backbone=dict(arch='b2-li', init_cfg=dict(checkpoint=checkpoint)))
