# Mask R-CNN + PVTv2-b2-li + FPN, COCO 1x (same stage widths as b1: only the arch differs).
_base_ = './mask-rcnn_pvtv2-b1_fpn_1x_coco.py'
model = dict(backbone=dict(arch='b2-li', init_cfg=dict(checkpoint='pvt_v2_b2_li')))
