# SegFormer all-MLP head (E = 768) on MiT-b2 (mmseg), ADE20K 512x512 160k.
# The recipe of configs/segformer/segformer_pvtv2-b2_8xb2-160k_ade20k-512x512.py
# with only the backbone swapped; the head input widths come from the backbone file.
_base_ = [
    '../../segformer/segformer_pvtv2-b2_8xb2-160k_ade20k-512x512.py',
    '../_base_/backbones/mit-b2.py',
]
model = dict(backbone={{_base_.backbone}}, decode_head=dict(in_channels={{_base_.backbone_widths}}))
