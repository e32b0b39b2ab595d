# Cascade Mask R-CNN + PVTv2-b2-li + FPN, COCO 3x multi-scale + crop, mixed precision: whai362/PVT's
# cascade_mask_rcnn_pvt_v2_b2_li_fpn_3x_mstrain_fp16.py (only the arch differs from b2).
_base_ = './cascade-mask-rcnn_pvtv2-b2_fpn_4conv1fc-giou_amp-ms-crop-3x_coco.py'
model = dict(backbone=dict(arch='b2-li', init_cfg=dict(checkpoint='pvt_v2_b2_li')))
