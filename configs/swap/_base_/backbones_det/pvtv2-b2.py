# PVTv2-b2 stages 1-3 (strides 8, 16, 32) for Deformable DETR's ChannelMapper; see
# ../backbones/pvtv2-b2.py for how a swap config uses `backbone` and `backbone_widths`.
backbone = dict(
    _delete_=True,
    type='PVTv2',
    arch='b2',
    out_indices=(1, 2, 3),
    drop_path_rate=0.1,
    attn_impl='auto',
    ffn_impl='auto',
    init_cfg=dict(type='Pretrained', checkpoint='pvt_v2_b2'),
)
backbone_widths = [128, 320, 512]  # channels of the returned stages, in order
