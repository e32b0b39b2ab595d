# Semantic FPN + PVTv2-b5, ADE20K 40k (same stage widths as b1: only the arch differs).
_base_ = './fpn_pvtv2-b1_8xb4-40k_ade20k-512x512.py'
model = dict(backbone=dict(arch='b5', init_cfg=dict(checkpoint='pvt_v2_b5')))
