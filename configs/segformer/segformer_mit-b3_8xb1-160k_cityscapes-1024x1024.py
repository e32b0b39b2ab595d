# SegFormer MiT-b3 (PVTv2-b3 with mlp ratios 4); loads SegFormer's own mit_b3 weights.
_base_ = ['./segformer_pvtv2-b3_8xb1-160k_cityscapes-1024x1024.py']
checkpoint = 'mit_b3'
model = dict(backbone=dict(mlp_ratios=[4, 4, 4, 4], init_cfg=dict(checkpoint=checkpoint)))
