# Your own panoptic data in COCO panoptic format (data/README.md, "Your own data"): Panoptic
# SegFormer on PVTv2-b0, one GPU x 2 images, 24 epochs. Edit this block; nothing below it needs
# changing.
data_root = 'data/my_coco_panoptic/'  # see data/README.md for the files under it
thing_classes = ('person', 'car')  # countable objects: "isthing": 1 in the JSON's categories
stuff_classes = ('road', 'sky')  # amorphous regions: "isthing": 0
palette = [(220, 20, 60), (0, 0, 142), (128, 64, 128), (70, 130, 180)]  # things, then stuff
img_scale = (1333, 800)  # (long, short) side limits images are resized within
checkpoint = 'pvt_v2_b0'  # ImageNet-1K weights by name (docs/model_zoo.md), a file or None
# ---------------------------------------------------------------------------------------------
# Checked on load (CheckedCocoPanopticDataset, CheckedLoadPanopticAnnotations): JSON fields,
# known categories, every PNG present, of its image's size and holding every listed segment.
# A shipped config by package-scoped name: a copy of this file works from any folder.
_base_ = ['pvtv2_dense::panoptic_segformer/panoptic-segformer_pvtv2-b0_8xb1-24e_coco-panoptic.py']
metainfo = dict(
    thing_classes=thing_classes,
    stuff_classes=stuff_classes,
    classes=thing_classes + stuff_classes,
    palette=palette,
)
train_pipeline = [
    dict(type='LoadImageFromFile', color_type='color'),
    dict(type='CheckedLoadPanopticAnnotations'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
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
    batch_size=2,
    dataset=dict(
        _delete_=True,
        type='CheckedCocoPanopticDataset',
        data_root=data_root,
        metainfo=metainfo,
        ann_file='annotations/panoptic_train.json',
        data_prefix=dict(img='train/', seg='annotations/panoptic_train/'),
        filter_cfg=dict(filter_empty_gt=False, min_size=0),
        pipeline=train_pipeline,
    ),
)
val_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='CheckedCocoPanopticDataset',
        data_root=data_root,
        metainfo=metainfo,
        ann_file='annotations/panoptic_val.json',
        data_prefix=dict(img='val/', seg='annotations/panoptic_val/'),
        test_mode=True,
        pipeline=test_pipeline,
    )
)
test_dataloader = val_dataloader
val_evaluator = dict(
    ann_file=data_root + 'annotations/panoptic_val.json',
    seg_prefix=data_root + 'annotations/panoptic_val/',
)
test_evaluator = val_evaluator
model = dict(
    backbone=dict(init_cfg=dict(type='Pretrained', checkpoint=checkpoint) if checkpoint else None),
    bbox_head=dict(num_things_classes=len(thing_classes), num_stuff_classes=len(stuff_classes)),
)
