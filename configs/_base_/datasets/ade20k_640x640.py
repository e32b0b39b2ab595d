# ADE20K at 640x640 crops, SegFormer-b5's 640 recipe: scale (2048, 640) in training and test, as
# NVlabs/SegFormer's segformer.b5.640x640.ade.160k.py and mmseg's segformer b5-640 config have it
# (mmseg's config overrides the 2560x640 of its generic ade20k_640x640 base).
_base_ = ['./ade20k.py']
crop_size = (640, 640)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='CheckSegAnnotation', num_classes=150),
    dict(type='RandomResize', scale=(2048, 640), ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(2048, 640), keep_ratio=True),
    # NVlabs/SegFormer and whai362/PVTv2-Seg evaluate with AlignedResize: the keep-ratio resize,
    # then a second (bilinear) resize to the next multiple of 32 up; the same pixels.
    dict(type='ResizeToMultiple', size_divisor=32),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='CheckSegAnnotation', num_classes=150),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
