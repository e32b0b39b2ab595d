# SegFormer MiT-b0 (PVTv2-b0 with mlp ratios 4); loads SegFormer's own mit_b0 weights.
_base_ = ['./segformer_pvtv2-b0_8xb2-160k_ade20k-512x512.py']
checkpoint = 'mit_b0'
model = dict(backbone=dict(mlp_ratios=[4, 4, 4, 4], init_cfg=dict(checkpoint=checkpoint)))
