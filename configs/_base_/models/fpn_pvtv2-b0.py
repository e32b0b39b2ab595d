# Semantic FPN (Kirillov et al., 2019; mmseg's FPN neck + FPNHead) on a PVTv2-b0 backbone, as in
# whai362/PVTv2-Seg's configs/sem_fpn: mmseg's fpn_r50 with the ResNet replaced by PVTv2 stages
# 0-3 (strides 4-32). Swapping the backbone means setting `arch` and, when the widths change,
# `neck.in_channels`.
# LocalSyncBN: SyncBN in multi-process GPU runs, plain BN in one process or on CPU.
norm_cfg = dict(type='LocalSyncBN', requires_grad=True)
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255,
)
model = dict(
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    # drop path 0.1, as whai362/PVTv2-Seg's pvtv2.py builds every size.
    backbone=dict(
        type='PVTv2',
        arch='b0',
        drop_path_rate=0.1,
        out_indices=(0, 1, 2, 3),
        attn_impl='auto',
        ffn_impl='auto',
    ),
    neck=dict(type='FPN', in_channels=[32, 64, 160, 256], out_channels=256, num_outs=4),
    decode_head=dict(
        type='FPNHead',
        in_channels=[256, 256, 256, 256],
        in_index=[0, 1, 2, 3],
        feature_strides=[4, 8, 16, 32],
        channels=128,
        dropout_ratio=0.1,
        num_classes=150,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
    ),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'),
)
