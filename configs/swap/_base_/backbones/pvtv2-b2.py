# PVTv2-b2 (24.9 M params), all four stages (strides 4-32) for the segmentation and depth heads.
# A swap config sets `model.backbone = {{_base_.backbone}}` and the head's in_channels to
# `{{_base_.backbone_widths}}`; `_delete_` drops every key of the task config's own backbone.
backbone = dict(
    _delete_=True,
    type='PVTv2',
    arch='b2',
    drop_path_rate=0.1,
    attn_impl='auto',
    ffn_impl='auto',
    init_cfg=dict(type='Pretrained', checkpoint='pvt_v2_b2'),
)
backbone_widths = [64, 128, 320, 512]  # channels of the returned stages, in order
