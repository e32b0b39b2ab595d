# SegFormer MiT-b4 (PVTv2-b4 with mlp ratios 4); loads SegFormer's own mit_b4 weights.
_base_ = ['./segformer_pvtv2-b4_8xb1-160k_cityscapes-1024x1024.py']
checkpoint = 'mit_b4'
model = dict(backbone=dict(mlp_ratios=[4, 4, 4, 4], init_cfg=dict(checkpoint=checkpoint)))
