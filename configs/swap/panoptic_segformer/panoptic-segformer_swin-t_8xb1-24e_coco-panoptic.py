# Panoptic SegFormer on Swin-T (mmdet) (3 levels + 1 extra), COCO panoptic 24e.
# The recipe of configs/panoptic_segformer/panoptic-segformer_pvtv2-b2_8xb1-24e_coco-panoptic.py
# with only the backbone swapped; the neck input widths come from the backbone file.
_base_ = [
    '../../panoptic_segformer/panoptic-segformer_pvtv2-b2_8xb1-24e_coco-panoptic.py',
    '../_base_/backbones_det/swin-t.py',
]
model = dict(backbone={{_base_.backbone}}, neck=dict(in_channels={{_base_.backbone_widths}}))
