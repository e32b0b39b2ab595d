# Your own object detection data in COCO format (data/README.md, "Your own data"): Deformable
# DETR on PVTv2-b0, one GPU x 4 images, 50 epochs. Edit this block; nothing below it needs
# changing.
data_root = 'data/my_coco/'  # annotations/{train,val}.json, images in train/ and val/
classes = ('cat', 'dog')  # names of the JSON's "categories", in the order you want the labels
palette = [(220, 20, 60), (0, 0, 142)]  # one (R, G, B) per class, for drawing
img_scale = (1333, 800)  # (long, short) side limits images are resized within
checkpoint = 'pvt_v2_b0'  # ImageNet-1K weights by name (docs/model_zoo.md), a file or None
# ---------------------------------------------------------------------------------------------
# The JSON is checked on load (CheckedCocoDataset): missing fields, unknown images or
# categories, boxes outside their image, classes absent from "categories" stop with one line.
# A shipped config by package-scoped name: a copy of this file works from any folder.
_base_ = ['pvtv2_dense::deformable_detr/deformable-detr_pvtv2-b0_16xb2-50e_coco.py']
metainfo = dict(classes=classes, palette=palette)
train_pipeline = [
    dict(type='LoadImageFromFile', color_type='color'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile', color_type='color'),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'),
    ),
]
train_dataloader = dict(
    batch_size=4,
    dataset=dict(
        _delete_=True,
        type='CheckedCocoDataset',
        data_root=data_root,
        metainfo=metainfo,
        ann_file='annotations/train.json',
        data_prefix=dict(img='train/'),
        filter_cfg=dict(filter_empty_gt=False, min_size=0),
        pipeline=train_pipeline,
    ),
)
val_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='CheckedCocoDataset',
        data_root=data_root,
        metainfo=metainfo,
        ann_file='annotations/val.json',
        data_prefix=dict(img='val/'),
        test_mode=True,
        pipeline=test_pipeline,
    )
)
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/val.json')
test_evaluator = val_evaluator
model = dict(
    backbone=dict(init_cfg=dict(type='Pretrained', checkpoint=checkpoint) if checkpoint else None),
    bbox_head=dict(num_classes=len(classes)),
)
