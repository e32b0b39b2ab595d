# ResNet-50 from mmdet, all four stages, set up as in mmdet's Mask R-CNN R-50 baseline (frozen
# stem and first stage, BN in eval mode, torchvision weights).
backbone = dict(
    _delete_=True,
    type='mmdet.ResNet',
    depth=50,
    num_stages=4,
    out_indices=(0, 1, 2, 3),
    frozen_stages=1,
    norm_cfg=dict(type='BN', requires_grad=True),
    norm_eval=True,
    style='pytorch',
    init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50'),
)
backbone_widths = [256, 512, 1024, 2048]
