# Mask R-CNN + PVTv2-b2-li + FPN, COCO 3x multi-scale + crop. The official b2-li run trained in
# mixed precision (apex fp16): AmpOptimWrapper is its mmengine counterpart.
_base_ = './mask-rcnn_pvtv2-b2_fpn_ms-crop-3x_coco.py'
model = dict(backbone=dict(arch='b2-li', init_cfg=dict(checkpoint='pvt_v2_b2_li')))
optim_wrapper = dict(type='AmpOptimWrapper')
