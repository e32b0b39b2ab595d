# KITTI Eigen split in the BTS/GLPDepth layout (data/README.md): KB crop to 352x1216, random
# 352x704 training crops, max depth 80 m, Garg crop of the KB window at evaluation. Depth PNGs:
# metres x 256.
dataset_type = 'KITTIDepthDataset'
data_root = 'data/kitti'
crop_size = (352, 704)
max_depth = 80.0
meta_keys = (
    'img_path',
    'depth_map_path',
    'ori_shape',
    'img_shape',
    'pad_shape',
    'scale_factor',
    'flip',
    'flip_direction',
    'kb_frame',
)
# GLPDepth's order (its BaseDataset.augment_training_data): the CutDepth strip is pasted on the
# whole frame, then flip, crop and the photometric jitter, which alters the strip too.
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadCheckedDepthAnnotation', depth_rescale_factor=1 / 256),
    dict(type='KBCrop'),
    dict(type='VerticalCutDepth', prob=0.25, p=0.75, max_depth=max_depth),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='DepthPhotometric', prob=0.5),
    dict(type='PackSegInputs', meta_keys=meta_keys),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadCheckedDepthAnnotation', depth_rescale_factor=1 / 256),
    dict(type='KBCrop'),
    dict(type='PackSegInputs', meta_keys=meta_keys),
]
# Flip test (tools/test.py --tta, with tta_model = DepthTTAModel in the config).
tta_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadCheckedDepthAnnotation', depth_rescale_factor=1 / 256),
    dict(type='KBCrop'),
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
        ann_file='splits/eigen_train_files_with_gt.txt',
        data_prefix=dict(img_path='raw', depth_map_path='gt_depth'),
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
        ann_file='splits/eigen_test_files_with_gt.txt',
        data_prefix=dict(img_path='raw', depth_map_path='gt_depth'),
        pipeline=test_pipeline,
    ),
)
test_dataloader = val_dataloader
# Garg crop of the KB window, as GLPDepth's test.py; crop_reference='frame' places it on the full
# frame instead, as BTS's bts_eval.py (about 13 more rows at the top; see data/README.md).
val_evaluator = dict(
    type='CroppedDepthMetric',
    min_depth_eval=1e-3,
    max_depth_eval=max_depth,
    crop_type='garg_crop',
    crop_reference='window',
)
test_evaluator = val_evaluator
