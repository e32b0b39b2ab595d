# GFL + PVTv2-b2-li + FPN, COCO 3x multi-scale + crop (only the arch differs from b2).
_base_ = './gfl_pvtv2-b2_fpn_ms-crop-3x_coco.py'
model = dict(backbone=dict(arch='b2-li', init_cfg=dict(checkpoint='pvt_v2_b2_li')))
