# PVTv2-b2, all four stages (strides 4-32), for the detectors' FPN; set up as the Mask R-CNN
# recipe's own backbone. See ../backbones/pvtv2-b2.py for how a swap config uses `backbone` and
# `backbone_widths`.
backbone = dict(
    _delete_=True,
    type='PVTv2',
    arch='b2',
    drop_path_rate=0.1,
    out_indices=(0, 1, 2, 3),
    attn_impl='auto',
    ffn_impl='auto',
    init_cfg=dict(type='Pretrained', checkpoint='pvt_v2_b2'),
)
backbone_widths = [64, 128, 320, 512]
