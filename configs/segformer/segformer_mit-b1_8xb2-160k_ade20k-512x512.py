# SegFormer MiT-b1 (PVTv2-b1 with mlp ratios 4); loads SegFormer's own mit_b1 weights.
_base_ = ['./segformer_pvtv2-b1_8xb2-160k_ade20k-512x512.py']
checkpoint = 'mit_b1'
model = dict(backbone=dict(mlp_ratios=[4, 4, 4, 4], init_cfg=dict(checkpoint=checkpoint)))
