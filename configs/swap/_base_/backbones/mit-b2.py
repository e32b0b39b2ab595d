# SegFormer's MiT-b2 (24.2 M params) from mmseg, all four stages. Weights: the official mit_b2.pth
# converted with mmseg's tools/model_converters/mit2mmseg.py (mmseg keys expected).
backbone = dict(
    _delete_=True,
    type='mmseg.MixVisionTransformer',
    embed_dims=64,
    num_layers=[3, 4, 6, 3],
    num_heads=[1, 2, 5, 8],
    sr_ratios=[8, 4, 2, 1],
    mlp_ratio=4,
    drop_path_rate=0.1,
    init_cfg=dict(type='Pretrained', checkpoint='mit_b2_mmseg'),
)
backbone_widths = [64, 128, 320, 512]  # embed_dims * num_heads of each stage
