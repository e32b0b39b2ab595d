# ResNet-50 V1c (deep stem, 23.5 M params) from mmseg, all four stages, as in mmseg's R-50
# baselines. LocalSyncBN: SyncBN in multi-process GPU runs, plain BN in one process or on CPU.
backbone = dict(
    _delete_=True,
    type='mmseg.ResNetV1c',
    depth=50,
    num_stages=4,
    out_indices=(0, 1, 2, 3),
    dilations=(1, 1, 1, 1),
    strides=(1, 2, 2, 2),
    norm_cfg=dict(type='LocalSyncBN', requires_grad=True),
    norm_eval=False,
    style='pytorch',
    contract_dilation=True,
    init_cfg=dict(type='Pretrained', checkpoint='open-mmlab://resnet50_v1c'),
)
backbone_widths = [256, 512, 1024, 2048]  # bottleneck outputs (4 x base width) per stage
