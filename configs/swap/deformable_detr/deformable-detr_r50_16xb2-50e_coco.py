# Deformable DETR on ResNet-50 (mmdet) (3 levels + 1 extra), COCO 50e.
# The recipe of configs/deformable_detr/deformable-detr_pvtv2-b2_16xb2-50e_coco.py
# with only the backbone swapped; the neck input widths come from the backbone file.
_base_ = [
    '../../deformable_detr/deformable-detr_pvtv2-b2_16xb2-50e_coco.py',
    '../_base_/backbones_det/r50.py',
]
model = dict(backbone={{_base_.backbone}}, neck=dict(in_channels={{_base_.backbone_widths}}))
