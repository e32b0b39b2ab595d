# ResNet-50 stages 1-3 from mmdet, set up as in mmdet's Deformable DETR R-50 baseline
# (frozen stem and first stage, frozen BN statistics, torchvision weights).
backbone = dict(
    _delete_=True,
    type='mmdet.ResNet',
    depth=50,
    num_stages=4,
    out_indices=(1, 2, 3),
    frozen_stages=1,
    norm_cfg=dict(type='BN', requires_grad=False),
    norm_eval=True,
    style='pytorch',
    init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50'),
)
backbone_widths = [512, 1024, 2048]
