# Synthetic panoptic shapes in the COCO panoptic layout (pvtv2_dense.datasets
# .generate_coco_panoptic; tools/quickstart.py writes it to data/synthetic/coco_panoptic):
# 64x64 images, 3 things (disc, rectangle, triangle) + 4 stuff (sky, wall, grass, sand).
_base_ = ['./coco_panoptic.py']
data_root = 'data/synthetic/coco_panoptic/'
metainfo = dict(
    thing_classes=('disc', 'rectangle', 'triangle'),
    stuff_classes=('sky', 'wall', 'grass', 'sand'),
    classes=('disc', 'rectangle', 'triangle', 'sky', 'wall', 'grass', 'sand'),
    palette=[
        (230, 60, 60),
        (250, 220, 40),
        (70, 60, 230),
        (150, 190, 240),
        (120, 100, 90),
        (40, 110, 40),
        (200, 180, 120),
    ],
)
img_scale = (64, 64)
train_pipeline = [
    dict(type='LoadImageFromFile', color_type='color'),
    dict(type='CheckedLoadPanopticAnnotations'),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile', color_type='color'),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='CheckedLoadPanopticAnnotations'),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'),
    ),
]
train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    batch_sampler=None,
    dataset=dict(
        data_root=data_root,
        metainfo=metainfo,
        filter_cfg=dict(filter_empty_gt=False, min_size=0),
        pipeline=train_pipeline,
    ),
)
val_dataloader = dict(
    batch_size=8,
    dataset=dict(data_root=data_root, metainfo=metainfo, pipeline=test_pipeline),
)
test_dataloader = val_dataloader
val_evaluator = dict(
    ann_file=data_root + 'annotations/panoptic_val2017.json',
    seg_prefix=data_root + 'annotations/panoptic_val2017/',
)
test_evaluator = val_evaluator
