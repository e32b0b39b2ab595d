# Panoptic SegFormer (Li et al., CVPR 2022) on a PVTv2-b0 backbone, COCO's 80 things + 53 stuff.
# Backbone stages 1-3 (strides 8, 16, 32) -> ChannelMapper to 256 (GN 32) + one stride-64 level
# -> mmdet's deformable encoder (6 layers) -> location decoder (6 deformable layers, box
# refinement, 300 thing queries) -> thing mask decoder (4 layers) and stuff mask decoder
# (6 layers with self-attention, 53 stuff queries) -> mask-wise merging. Values as in
# github.com/zhiqi-li/Panoptic-SegFormer (configs/panformer/base.py).
pvt_widths = [32, 64, 160, 256]  # PVTv2-b0 hidden sizes, stages 0-3
pvt_out_indices = (1, 2, 3)
num_things_classes = 80
num_stuff_classes = 53
model = dict(
    type='PanopticSegFormer',
    msda_impl='auto',
    num_queries=300,
    num_feature_levels=4,
    with_box_refine=True,
    as_two_stage=False,
    data_preprocessor=dict(
        type='DetDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_size_divisor=1,
        # Thing masks pad with 0, the semantic map (stuff targets) with 255 (VOID).
        pad_mask=True,
        mask_pad_value=0,
        pad_seg=True,
        seg_pad_value=255,
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
        type='PanopticSegFormerHead',
        num_things_classes=num_things_classes,
        num_stuff_classes=num_stuff_classes,
        embed_dims=256,
        sync_cls_avg_factor=True,
        # mask_impl='fused': the checked speed-up of the masks (same weights and masks as 'plain').
        thing_mask_decoder=dict(num_heads=8, num_layers=4, mask_impl='fused'),
        stuff_mask_decoder=dict(num_heads=8, num_layers=6, self_attn=True, mask_impl='fused'),
        loss_cls=dict(type='FocalLoss', use_sigmoid=True, gamma=2.0, alpha=0.25, loss_weight=2.0),
        loss_bbox=dict(type='L1Loss', loss_weight=5.0),
        loss_iou=dict(type='GIoULoss', loss_weight=2.0),
        # Dice on the attention-map masks as they are (no sigmoid), squared denominators.
        loss_mask=dict(
            type='DiceLoss', use_sigmoid=False, activate=False, eps=1e-6, loss_weight=2.0
        ),
        # The official stuff presence loss is its focal loss (2.0) times 2.
        loss_stuff_cls=dict(
            type='FocalLoss', use_sigmoid=True, gamma=2.0, alpha=0.25, loss_weight=4.0
        ),
    ),
    train_cfg=dict(
        assigner=dict(
            type='HungarianAssigner',
            match_costs=[
                dict(type='FocalLossCost', weight=2.0),
                dict(type='BBoxL1Cost', weight=5.0, box_format='xywh'),
                dict(type='IoUCost', iou_mode='giou', weight=2.0),
            ],
        ),
        # Re-matches the matched thing queries with their masks; the official assigner doubles
        # the class cost of its config (2.0), hence 4.0.
        mask_assigner=dict(
            type='HungarianAssigner',
            match_costs=[
                dict(type='FocalLossCost', weight=4.0),
                dict(type='BBoxL1Cost', weight=5.0, box_format='xywh'),
                dict(type='IoUCost', iou_mode='giou', weight=2.0),
                dict(type='DiceCost', weight=2.0, pred_act=False, naive_dice=False),
            ],
        ),
    ),
    test_cfg=dict(
        max_per_img=100,
        # Mask-wise merging (official defaults; the PVTv2-b5 release uses 0.3 for both
        # quality thresholds).
        quality_threshold_things=0.25,
        quality_threshold_stuff=0.25,
        overlap_threshold_things=0.4,
        overlap_threshold_stuff=0.2,
        mask_threshold=0.5,
    ),
)
