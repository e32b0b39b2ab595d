# Mask R-CNN on PVTv2-b2 (ours), COCO 1x: the recipe of
# configs/mask_rcnn/mask-rcnn_pvtv2-b2_fpn_1x_coco.py with only the backbone swapped; the FPN
# input widths come from the backbone file.
_base_ = [
    '../../mask_rcnn/mask-rcnn_pvtv2-b2_fpn_1x_coco.py',
    '../_base_/backbones_fpn/pvtv2-b2.py',
]
model = dict(backbone={{_base_.backbone}}, neck=dict(in_channels={{_base_.backbone_widths}}))
