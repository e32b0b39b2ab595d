# Your own depth data (data/README.md, "Your own data"): GLPN on PVTv2-b0, one GPU x 8 images,
# 25 epochs (GLPDepth's schedule). Edit this block; nothing below it needs changing.
data_root = 'data/my_depth'  # images/{train,val}/NAME.jpg, annotations/{train,val}/NAME.png
depth_scale = 1000  # depth PNG units per metre: 1000 for uint16 millimetres, 256 for KITTI's
max_depth = 10.0  # metres: the head predicts 0..max_depth; farther pixels are not evaluated
crop_size = (448, 576)  # training crop (height, width); smaller images are padded
img_suffix = '.jpg'  # your images' file ending: '.png' for PNG images
checkpoint = 'pvt_v2_b0'  # ImageNet-1K weights by name (docs/model_zoo.md), a file or None
# ---------------------------------------------------------------------------------------------
# Checked on load (CheckedNYUDataset, LoadCheckedDepthAnnotation): every image needs its depth
# PNG (same name), single-channel uint16, of the image's size, with valid (non-zero) pixels.
# A shipped config by package-scoped name: a copy of this file works from any folder.
_base_ = ['pvtv2_dense::glpn/glpn_pvtv2-b0_4xb3-25e_nyu-448x576.py']
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
load_depth = dict(type='LoadCheckedDepthAnnotation', depth_rescale_factor=1 / depth_scale)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    load_depth,
    dict(type='VerticalCutDepth', prob=0.25, p=0.75, max_depth=max_depth),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='DepthPhotometric', prob=0.5),
    dict(type='PackSegInputs', meta_keys=meta_keys),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    load_depth,
    dict(type='PackSegInputs', meta_keys=meta_keys),
]
tta_pipeline = [
    dict(type='LoadImageFromFile'),
    load_depth,
    dict(
        type='TestTimeAug',
        transforms=[
            [dict(type='RandomFlip', prob=p, direction='horizontal') for p in (0.0, 1.0)],
            [dict(type='PackSegInputs', meta_keys=meta_keys)],
        ],
    ),
]
_dataset = dict(
    type='CheckedNYUDataset', data_root=data_root, img_suffix=img_suffix, depth_map_suffix='.png'
)
train_dataloader = dict(
    batch_size=8,
    dataset=dict(
        _delete_=True,
        data_prefix=dict(img_path='images/train', depth_map_path='annotations/train'),
        pipeline=train_pipeline,
        **_dataset,
    ),
)
val_dataloader = dict(
    dataset=dict(
        _delete_=True,
        test_mode=True,
        data_prefix=dict(img_path='images/val', depth_map_path='annotations/val'),
        pipeline=test_pipeline,
        **_dataset,
    )
)
test_dataloader = val_dataloader
# Evaluated on the whole image (no NYU/KITTI border crop).
val_evaluator = dict(crop_type=None, max_depth_eval=max_depth)
test_evaluator = val_evaluator
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(init_cfg=dict(type='Pretrained', checkpoint=checkpoint) if checkpoint else None),
    decode_head=dict(max_depth=max_depth),
)
