# PVTv2-b0 encoder + SegFormer's all-MLP decoder (E = 256; `channels` is E).
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
    backbone=dict(
        type='PVTv2',
        arch='b0',
        drop_path_rate=0.1,
        # The checked speed-ups (same weights and results as attn_impl='sdpa', ffn_impl='plain').
        attn_impl='auto',
        ffn_impl='auto',
        # The head computes channels-last: the maps come as views of the tokens, uncopied.
        channels_last_outputs=True,
    ),
    decode_head=dict(
        # AllMLPHead computed with its fuse conv folded into the embeddings (same weights and
        # results); type='AllMLPHead' runs the published order of operations.
        type='FoldedAllMLPHead',
        in_channels=[32, 64, 160, 256],
        in_index=[0, 1, 2, 3],
        channels=256,
        dropout_ratio=0.1,
        num_classes=150,
        norm_cfg=norm_cfg,
        align_corners=False,
        # mmseg's CrossEntropyLoss (same values, gradients and options) without the full-size
        # log-softmax buffer; type='CrossEntropyLoss' runs mmseg's own.
        loss_decode=dict(type='FusedCrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
    ),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'),
)
