# Deformable DETR + PVTv2-b3, COCO 50 epochs (same stage widths as b1: only the arch differs).
_base_ = './deformable-detr_pvtv2-b1_16xb2-50e_coco.py'
model = dict(backbone=dict(arch='b3', init_cfg=dict(checkpoint='pvt_v2_b3')))
