# Deformable DETR (mmdet's DeformableDETR) on a PVTv2-b0 backbone: stages 1-3 (strides 8, 16, 32)
# plus one extra stride-64 level from the neck make the 4 feature levels of the transformer.
# The neck reads the widths of the stages the backbone returns: swapping the backbone means
# setting `arch` and, when the widths change, `neck.in_channels` (see configs/deformable_detr).
pvt_widths = [32, 64, 160, 256]  # PVTv2-b0 hidden sizes, stages 0-3
pvt_out_indices = (1, 2, 3)
model = dict(
    type='DeformableDETRMSDA',  # mmdet's DeformableDETR with msda_impl
    msda_impl='auto',
    num_queries=300,
    num_feature_levels=4,
    with_box_refine=False,
    as_two_stage=False,
    data_preprocessor=dict(
        type='DetDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_size_divisor=1,
    ),
    # attn_impl/ffn_impl: the checked speed-ups (same weights and results as 'sdpa'/'plain').
    backbone=dict(
        type='PVTv2', arch='b0', out_indices=pvt_out_indices, attn_impl='auto', ffn_impl='auto'
    ),
    neck=dict(
        type='ChannelMapper',
        in_channels=[pvt_widths[i] for i in pvt_out_indices],
        kernel_size=1,
        out_channels=256,
        act_cfg=None,
        norm_cfg=dict(type='GN', num_groups=32),
        num_outs=4,
    ),
    # The encoder's and decoder's deformable attention: mmcv's module with msda_impl='auto',
    # the lean kernel on the CPU (mmcv's PyTorch path's results with less memory and time) and
    # mmcv's CUDA kernel on a GPU; msda_impl='mmcv' is mmcv's module as published.
    encoder=dict(
        num_layers=6,
        layer_cfg=dict(
            self_attn_cfg=dict(embed_dims=256, batch_first=True),
            ffn_cfg=dict(embed_dims=256, feedforward_channels=1024, ffn_drop=0.1),
        ),
    ),
    decoder=dict(
        num_layers=6,
        return_intermediate=True,
        layer_cfg=dict(
            self_attn_cfg=dict(embed_dims=256, num_heads=8, dropout=0.1, batch_first=True),
            cross_attn_cfg=dict(embed_dims=256, batch_first=True),
            ffn_cfg=dict(embed_dims=256, feedforward_channels=1024, ffn_drop=0.1),
        ),
        post_norm_cfg=None,
    ),
    positional_encoding=dict(num_feats=128, normalize=True, offset=-0.5),
    bbox_head=dict(
        type='DeformableDETRHead',
        num_classes=80,
        sync_cls_avg_factor=True,
        loss_cls=dict(type='FocalLoss', use_sigmoid=True, gamma=2.0, alpha=0.25, loss_weight=2.0),
        loss_bbox=dict(type='L1Loss', loss_weight=5.0),
        loss_iou=dict(type='GIoULoss', loss_weight=2.0),
    ),
    train_cfg=dict(
        assigner=dict(
            type='HungarianAssigner',
            match_costs=[
                dict(type='FocalLossCost', weight=2.0),
                dict(type='BBoxL1Cost', weight=5.0, box_format='xywh'),
                dict(type='IoUCost', iou_mode='giou', weight=2.0),
            ],
        )
    ),
    test_cfg=dict(max_per_img=100),
)
