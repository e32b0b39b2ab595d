# Swin-T (27.5 M params) from mmseg, all four stages. Weights: the official
# swin_tiny_patch4_window7_224.pth converted with mmseg's tools/model_converters/swin2mmseg.py
# (published by mmseg: manifest name swin_tiny_patch4_window7_224_mmseg).
backbone = dict(
    _delete_=True,
    type='mmseg.SwinTransformer',
    embed_dims=96,
    depths=[2, 2, 6, 2],
    num_heads=[3, 6, 12, 24],
    window_size=7,
    mlp_ratio=4,
    drop_path_rate=0.1,
    init_cfg=dict(type='Pretrained', checkpoint='swin_tiny_patch4_window7_224_mmseg'),
)
backbone_widths = [96, 192, 384, 768]  # embed_dims * 2**stage
