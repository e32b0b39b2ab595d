# SegFormer all-MLP decoder on PVTv2-b0, Cityscapes 1024x1024, 8 GPUs x 1 image, 160k iterations,
# sliding-window test (1024x1024 windows, stride 768).
_base_ = [
    '../_base_/models/segformer_pvtv2-b0.py',
    '../_base_/datasets/cityscapes_1024x1024.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_160k_segformer.py',
]
crop_size = (1024, 1024)
checkpoint = 'pvt_v2_b0'
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(init_cfg=dict(type='Pretrained', checkpoint=checkpoint)),
    decode_head=dict(num_classes=19),
    test_cfg=dict(mode='slide', crop_size=(1024, 1024), stride=(768, 768)),
)
auto_scale_lr = dict(base_batch_size=8)
