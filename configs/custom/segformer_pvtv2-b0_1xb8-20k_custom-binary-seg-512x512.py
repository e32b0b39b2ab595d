# Your own binary segmentation data (data/README.md, "Your own data"): SegFormer on PVTv2-b0,
# one GPU x 8 images, 20k iterations, two classes with softmax cross-entropy. The masks hold
# 0 (background) and 1 (foreground), not 0/255: 255 is the ignore index. Edit this block; nothing
# below it needs changing.
data_root = 'data/my_binary_seg'  # img_dir/{train,val}/NAME.jpg, ann_dir/{train,val}/NAME.png
classes = ('background', 'foreground')  # mask value 0 and 1
palette = [(0, 0, 0), (255, 255, 255)]  # one (R, G, B) per class, for drawing
reduce_zero_label = False  # keep False: 0 is the background class, not "unlabelled"
crop_size = (512, 512)  # training crop (height, width); images are resized around it
img_suffix = '.jpg'  # your images' file ending: '.png' for PNG images
checkpoint = 'pvt_v2_b0'  # ImageNet-1K weights by name (docs/model_zoo.md), a file or None
# ---------------------------------------------------------------------------------------------
# The masks are checked when the dataset is built (CheckedSegDataset): 0/255 masks,
# reduce_zero_label=True on 0/1 masks or a value above 1 stops with one line saying what to set.
# A shipped config by package-scoped name: a copy of this file works from any folder.
_base_ = ['pvtv2_dense::segformer/segformer_pvtv2-b0_8xb2-160k_ade20k-512x512.py']
metainfo = dict(classes=classes, palette=palette)
num_classes = len(classes)
img_scale = (4 * crop_size[1], crop_size[0])
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),  # reduce_zero_label comes from the dataset
    dict(type='CheckSegAnnotation', num_classes=num_classes),
    dict(type='RandomResize', scale=img_scale, ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='CheckSegAnnotation', num_classes=num_classes),
    dict(type='PackSegInputs'),
]
# Multi-scale + flip test: tools/test.py CONFIG CKPT --tta
tta_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='TestTimeAug',
        transforms=[
            [dict(type='Resize', scale_factor=r, keep_ratio=True) for r in (0.75, 1.0, 1.25)],
            [dict(type='RandomFlip', prob=p, direction='horizontal') for p in (0.0, 1.0)],
            [dict(type='LoadAnnotations')],
            [dict(type='CheckSegAnnotation', num_classes=num_classes)],
            [dict(type='PackSegInputs')],
        ],
    ),
]
_dataset = dict(
    type='CheckedSegDataset',
    data_root=data_root,
    metainfo=metainfo,
    reduce_zero_label=reduce_zero_label,
    img_suffix=img_suffix,
    seg_map_suffix='.png',
)
train_dataloader = dict(
    batch_size=8,
    dataset=dict(
        _delete_=True,
        data_prefix=dict(img_path='img_dir/train', seg_map_path='ann_dir/train'),
        pipeline=train_pipeline,
        **_dataset,
    ),
)
val_dataloader = dict(
    dataset=dict(
        _delete_=True,
        data_prefix=dict(img_path='img_dir/val', seg_map_path='ann_dir/val'),
        pipeline=test_pipeline,
        **_dataset,
    )
)
test_dataloader = val_dataloader
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(init_cfg=dict(type='Pretrained', checkpoint=checkpoint) if checkpoint else None),
    decode_head=dict(num_classes=num_classes),
)
max_iters = 20000
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0, end=1500),
    dict(type='PolyLR', eta_min=0.0, power=1.0, begin=1500, end=max_iters, by_epoch=False),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=2000)
default_hooks = dict(checkpoint=dict(by_epoch=False, interval=2000, max_keep_ckpts=2))
