# SegFormer all-MLP decoder on PVTv2-b0, ADE20K 512x512, 8 GPUs x 2 images, 160k iterations.
_base_ = [
    '../_base_/models/segformer_pvtv2-b0.py',
    '../_base_/datasets/ade20k.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_160k_segformer.py',
]
crop_size = (512, 512)
checkpoint = 'pvt_v2_b0'  # ImageNet-1k weights, any format (see README)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(init_cfg=dict(type='Pretrained', checkpoint=checkpoint)),
)
