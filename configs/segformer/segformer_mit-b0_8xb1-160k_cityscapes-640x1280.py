# SegFormer MiT-b0, Cityscapes, real-time setting: 640x1280 crops of frames resized around
# 1280x640, whole-image test at 1280x640; NVlabs/SegFormer's
# local_configs/segformer/B0/segformer.b0.640x1280.city.160k.py. Everything else (8 GPUs x 1 image,
# 160k iterations, the optimizer) is the 1024x1024 config's.
_base_ = ['./segformer_mit-b0_8xb1-160k_cityscapes-1024x1024.py']
crop_size = (640, 1280)
model = dict(data_preprocessor=dict(size=crop_size), test_cfg=dict(mode='whole'))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='CheckSegAnnotation', num_classes=19),
    dict(type='RandomResize', scale=(1280, 640), ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(1280, 640), keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='CheckSegAnnotation', num_classes=19),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
