# SegFormer MiT-b5 (PVTv2-b5 with mlp ratios 4); loads SegFormer's own mit_b5 weights.
_base_ = ['./segformer_pvtv2-b5_8xb2-160k_ade20k-512x512.py']
checkpoint = 'mit_b5'
model = dict(backbone=dict(mlp_ratios=[4, 4, 4, 4], init_cfg=dict(checkpoint=checkpoint)))
