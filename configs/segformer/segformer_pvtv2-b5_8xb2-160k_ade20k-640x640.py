# PVTv2-b5, ADE20K 640x640 crops (scale 2048x640).
_base_ = [
    '../_base_/models/segformer_pvtv2-b0.py',
    '../_base_/datasets/ade20k_640x640.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_160k_segformer.py',
]
crop_size = (640, 640)
checkpoint = 'pvt_v2_b5'
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(arch='b5', init_cfg=dict(type='Pretrained', checkpoint=checkpoint)),
    decode_head=dict(in_channels=[64, 128, 320, 512], channels=768),
)
