# COCO 2017 panoptic segmentation (see data/README.md for the layout): 80 things + 53 stuff.
# The dataset checks its JSON on load and CheckedLoadPanopticAnnotations each PNG on decode:
# unknown categories, segments absent from their PNG and PNGs of the wrong size fail with the
# file and segment named. Evaluation: PQ, SQ, RQ (all, things, stuff) with mmdet's
# CocoPanopticMetric (as FastCocoPanopticMetric: PQ by hotcoco, or panopticapi on every core).
dataset_type = 'CheckedCocoPanopticDataset'
data_root = 'data/coco/'
backend_args = None
train_pipeline = [
    # color_type='color' decodes grayscale and RGBA files to 3-channel BGR.
    dict(type='LoadImageFromFile', color_type='color', backend_args=backend_args),
    dict(type='CheckedLoadPanopticAnnotations', backend_args=backend_args),
    dict(type='Resize', scale=(1333, 800), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile', color_type='color', backend_args=backend_args),
    dict(type='Resize', scale=(1333, 800), keep_ratio=True),
    # Drop the annotation loading to run on images without ground truth.
    dict(type='CheckedLoadPanopticAnnotations', backend_args=backend_args),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'),
    ),
]
train_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    batch_sampler=dict(type='AspectRatioBatchSampler'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/panoptic_train2017.json',
        data_prefix=dict(img='train2017/', seg='annotations/panoptic_train2017/'),
        filter_cfg=dict(filter_empty_gt=False, min_size=32),
        pipeline=train_pipeline,
        backend_args=backend_args,
    ),
)
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/panoptic_val2017.json',
        data_prefix=dict(img='val2017/', seg='annotations/panoptic_val2017/'),
        test_mode=True,
        pipeline=test_pipeline,
        backend_args=backend_args,
    ),
)
test_dataloader = val_dataloader
val_evaluator = dict(
    # mmdet's CocoPanopticMetric, PQ by hotcoco (panopticapi's numbers; docs/evaluation.md).
    type='FastCocoPanopticMetric',
    ann_file=data_root + 'annotations/panoptic_val2017.json',
    seg_prefix=data_root + 'annotations/panoptic_val2017/',
    backend_args=backend_args,
)
test_evaluator = val_evaluator
