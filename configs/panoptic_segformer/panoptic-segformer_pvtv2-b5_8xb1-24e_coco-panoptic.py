# Panoptic SegFormer + PVTv2-b5, COCO panoptic 24 epochs (same stage widths as b1): the
# official PVTv2-B5 config (configs/panformer/panformer_pvtb5_24e_coco_panoptic.py) also raises
# both quality thresholds of the mask-wise merging to 0.3, and starts from the ImageNet-22K
# weights (pvt_v2_b5_22k), as the 55.6 PQ it published did.
_base_ = './panoptic-segformer_pvtv2-b1_8xb1-24e_coco-panoptic.py'
model = dict(
    backbone=dict(arch='b5', init_cfg=dict(checkpoint='pvt_v2_b5_22k')),
    test_cfg=dict(quality_threshold_things=0.3, quality_threshold_stuff=0.3),
)
