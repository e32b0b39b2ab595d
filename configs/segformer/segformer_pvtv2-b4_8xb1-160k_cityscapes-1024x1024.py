_base_ = ['./segformer_pvtv2-b2_8xb1-160k_cityscapes-1024x1024.py']
checkpoint = 'pvt_v2_b4'
model = dict(backbone=dict(arch='b4', init_cfg=dict(checkpoint=checkpoint)))
