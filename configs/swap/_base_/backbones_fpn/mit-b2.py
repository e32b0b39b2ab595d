# MiT-b2 from mmseg, all four stages (mmdet has no MiT; the `mmseg.` scope reaches it from mmdet).
backbone = dict(
    _delete_=True,
    type='mmseg.MixVisionTransformer',
    embed_dims=64,
    num_layers=[3, 4, 6, 3],
    num_heads=[1, 2, 5, 8],
    sr_ratios=[8, 4, 2, 1],
    mlp_ratio=4,
    out_indices=(0, 1, 2, 3),
    drop_path_rate=0.1,
    init_cfg=dict(type='Pretrained', checkpoint='mit_b2_mmseg'),
)
backbone_widths = [64, 128, 320, 512]
