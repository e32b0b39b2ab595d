# PVTv2-b0 encoder + GLPN decoder and depth head (sigmoid x max_depth) in mmseg's DepthEstimator.
# Depth maps are padded with 0 (= invalid), never with the segmentation ignore value 255.
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=0,
)
model = dict(
    type='DepthEstimator',
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
        init_cfg=dict(type='Pretrained', checkpoint='pvt_v2_b0'),
    ),
    decode_head=dict(
        type='GLPNHead',
        in_channels=[32, 64, 160, 256],
        channels=64,
        max_depth=10.0,
        norm_cfg=dict(type='BN', requires_grad=True),
        loss_decode=dict(type='SiLogLoss', loss_weight=1.0),
    ),
    train_cfg=dict(),
    # 'whole'; GLPDepth's flip test in-model: dict(mode='slide_flip', crop_size=(480, 640),
    # stride=(480, 640)) (one window covering the frame), or tools/test.py --tta.
    test_cfg=dict(mode='whole'),
)
