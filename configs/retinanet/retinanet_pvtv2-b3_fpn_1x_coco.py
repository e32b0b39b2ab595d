# RetinaNet + PVTv2-b3 + FPN, COCO 1x (same stage widths as b1: only the arch differs).
_base_ = './retinanet_pvtv2-b1_fpn_1x_coco.py'
model = dict(backbone=dict(arch='b3', init_cfg=dict(checkpoint='pvt_v2_b3')))
