# NYU Depth v2 in mmseg's layout (data/README.md): GLPDepth's training set and augmentations.
# Depth PNGs are uint16 millimetres; evaluation on full 480x640 frames with Eigen's crop.
dataset_type = 'CheckedNYUDataset'
data_root = 'data/nyu'
crop_size = (448, 576)
max_depth = 10.0
meta_keys = (
    'img_path',
    'depth_map_path',
    'ori_shape',
    'img_shape',
    'pad_shape',
    'scale_factor',
    'flip',
    'flip_direction',
    'category_id',
)
# GLPDepth's order (its BaseDataset.augment_training_data): the CutDepth strip is pasted on the
# whole frame, then flip, crop and the photometric jitter, which alters the strip too.
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadCheckedDepthAnnotation', depth_rescale_factor=1e-3),
    dict(type='VerticalCutDepth', prob=0.25, p=0.75, max_depth=max_depth),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='DepthPhotometric', prob=0.5),
    dict(type='PackSegInputs', meta_keys=meta_keys),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadCheckedDepthAnnotation', depth_rescale_factor=1e-3),
    dict(type='PackSegInputs', meta_keys=meta_keys),
]
# Flip test (tools/test.py --tta, with tta_model = DepthTTAModel in the config).
tta_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadCheckedDepthAnnotation', depth_rescale_factor=1e-3),
    dict(
        type='TestTimeAug',
        transforms=[
            [
                dict(type='RandomFlip', prob=0.0, direction='horizontal'),
                dict(type='RandomFlip', prob=1.0, direction='horizontal'),
            ],
            [dict(type='PackSegInputs', meta_keys=meta_keys)],
        ],
    ),
]
train_dataloader = dict(
    batch_size=3,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    drop_last=True,  # as GLPDepth's train.py: every batch is full
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='images/train', depth_map_path='annotations/train'),
        pipeline=train_pipeline,
    ),
)
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        test_mode=True,
        data_prefix=dict(img_path='images/test', depth_map_path='annotations/test'),
        pipeline=test_pipeline,
    ),
)
test_dataloader = val_dataloader
val_evaluator = dict(
    type='CroppedDepthMetric', min_depth_eval=1e-3, max_depth_eval=max_depth, crop_type='nyu_crop'
)
test_evaluator = val_evaluator
