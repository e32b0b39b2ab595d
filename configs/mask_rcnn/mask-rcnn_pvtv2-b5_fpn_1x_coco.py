# Mask R-CNN + PVTv2-b5 + FPN, COCO 1x (8 GPUs x 1 image, lr / 1.4, as b4).
_base_ = './mask-rcnn_pvtv2-b4_fpn_1x_coco.py'
model = dict(backbone=dict(arch='b5', init_cfg=dict(checkpoint='pvt_v2_b5')))
