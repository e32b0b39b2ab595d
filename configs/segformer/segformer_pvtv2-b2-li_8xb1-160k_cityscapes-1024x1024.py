_base_ = ['./segformer_pvtv2-b2_8xb1-160k_cityscapes-1024x1024.py']
checkpoint = 'pvt_v2_b2_li'
model = dict(backbone=dict(arch='b2-li', init_cfg=dict(checkpoint=checkpoint)))
