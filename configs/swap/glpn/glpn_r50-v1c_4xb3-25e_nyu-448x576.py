# GLPN decoder on ResNet-50 V1c (mmseg), NYU Depth v2 448x576 25e.
# The recipe of configs/glpn/glpn_pvtv2-b2_4xb3-25e_nyu-448x576.py
# with only the backbone swapped; the head input widths come from the backbone file.
_base_ = [
    '../../glpn/glpn_pvtv2-b2_4xb3-25e_nyu-448x576.py',
    '../_base_/backbones/r50-v1c.py',
]
model = dict(backbone={{_base_.backbone}}, decode_head=dict(in_channels={{_base_.backbone_widths}}))
