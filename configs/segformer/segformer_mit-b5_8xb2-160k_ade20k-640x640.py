# SegFormer MiT-b5 (== PVTv2-b5), ADE20K 640x640; loads SegFormer's own mit_b5 weights.
_base_ = ['./segformer_pvtv2-b5_8xb2-160k_ade20k-640x640.py']
checkpoint = 'mit_b5'
model = dict(backbone=dict(mlp_ratios=[4, 4, 4, 4], init_cfg=dict(checkpoint=checkpoint)))
