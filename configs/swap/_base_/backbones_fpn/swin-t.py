# Swin-T from mmdet, all four stages; `convert_weights` reads the official
# swin_tiny_patch4_window7_224.pth directly.
backbone = dict(
    _delete_=True,
    type='mmdet.SwinTransformer',
    embed_dims=96,
    depths=[2, 2, 6, 2],
    num_heads=[3, 6, 12, 24],
    window_size=7,
    mlp_ratio=4,
    out_indices=(0, 1, 2, 3),
    drop_path_rate=0.1,
    convert_weights=True,
    init_cfg=dict(type='Pretrained', checkpoint='swin_tiny_patch4_window7_224'),
)
backbone_widths = [96, 192, 384, 768]
