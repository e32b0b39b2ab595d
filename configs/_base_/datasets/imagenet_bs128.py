# ImageNet-1K, the DeiT / PVTv2 pipelines at 224: RandomResizedCrop (bicubic), flip,
# RandAugment rand-m9-mstd0.5-inc1; test: shorter side 256 (224 / 0.875), center crop 224.
# Random erasing and Mixup/CutMix run in the model's data preprocessor (after normalization).
dataset_type = 'ImageNetFolder'
data_root = 'data/imagenet'
train_pipeline = [
    dict(type='CheckedLoadImage'),
    dict(type='ClsRandomResizedCrop', size=224, interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='ClsRandAugment', num_ops=2, magnitude=9, magnitude_std=0.5, prob=0.5),
    dict(type='PackClsInputs'),
]
test_pipeline = [
    dict(type='CheckedLoadImage'),
    dict(type='ClsResizeShortEdge', size=256, interpolation='bicubic'),
    dict(type='ClsCenterCrop', size=224),
    dict(type='PackClsInputs'),
]
train_dataloader = dict(
    batch_size=128,
    num_workers=8,
    persistent_workers=True,
    # Mixup pairs each image with the reversed batch, which needs an even, full batch.
    drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='meta/train.txt',
        data_prefix=dict(img_path='train'),
        num_classes=1000,
        pipeline=train_pipeline,
    ),
)
val_dataloader = dict(
    batch_size=128,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='meta/val.txt',
        data_prefix=dict(img_path='val'),
        num_classes=1000,
        pipeline=test_pipeline,
    ),
)
test_dataloader = val_dataloader
val_evaluator = dict(type='ClsAccuracy', topk=(1, 5))
test_evaluator = val_evaluator
