# SegFormer MiT-b0, Cityscapes, real-time setting: 768x768 crops of frames resized around
# 1536x768, sliding-window test (768x768 windows, stride 768) at 1536x768; NVlabs/SegFormer's
# local_configs/segformer/B0/segformer.b0.768x768.city.160k.py. Everything else (8 GPUs x 1 image,
# 160k iterations, the optimizer) is the 1024x1024 config's.
_base_ = ['./segformer_mit-b0_8xb1-160k_cityscapes-1024x1024.py']
crop_size = (768, 768)
model = dict(
    data_preprocessor=dict(size=crop_size),
    test_cfg=dict(mode='slide', crop_size=(768, 768), stride=(768, 768)),
)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='CheckSegAnnotation', num_classes=19),
    dict(type='RandomResize', scale=(1536, 768), ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(1536, 768), keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='CheckSegAnnotation', num_classes=19),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
