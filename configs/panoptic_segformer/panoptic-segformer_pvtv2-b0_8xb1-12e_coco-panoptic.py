# Panoptic SegFormer + PVTv2-b0 on COCO panoptic, 12 epochs (1x): lr x0.1 at epoch 8, as the
# official 1x config (configs/panformer/panformer_r50_12e_coco_panoptic.py).
_base_ = './panoptic-segformer_pvtv2-b0_8xb1-24e_coco-panoptic.py'
max_epochs = 12
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True, milestones=[8], gamma=0.1)
]
