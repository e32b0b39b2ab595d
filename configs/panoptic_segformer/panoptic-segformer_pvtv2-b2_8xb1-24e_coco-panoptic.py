# Panoptic SegFormer + PVTv2-b2, COCO panoptic 24 epochs (same stage widths as b1: only the arch
# differs).
_base_ = './panoptic-segformer_pvtv2-b1_8xb1-24e_coco-panoptic.py'
model = dict(backbone=dict(arch='b2', init_cfg=dict(checkpoint='pvt_v2_b2')))
