# Your own image classification data, one folder per class (data/README.md, "Your own data"):
# PVTv2-b0, one GPU x 64 images, 100 epochs of the DeiT recipe. Edit this block; nothing below
# it needs changing.
data_root = 'data/my_cls'  # train/CLASS/*.jpg and val/CLASS/*.jpg (any image extension)
classes = ('cat', 'dog', 'horse')  # the class folder names; label i is classes[i]
img_size = 224  # training crop and test size
checkpoint = 'pvt_v2_b0'  # ImageNet-1K weights by name (docs/model_zoo.md), a file or None
# ---------------------------------------------------------------------------------------------
# Checked on load (ImageNetFolder, CheckedLoadImage): a class folder that is missing or holds no
# images, or an image that does not decode, stops with the folder or file named.
# A shipped config by package-scoped name: a copy of this file works from any folder.
_base_ = ['pvtv2_dense::pvtv2_cls/pvtv2-b0_8xb128-300e_in1k.py']
num_classes = len(classes)
train_pipeline = [
    dict(type='CheckedLoadImage'),
    dict(type='ClsRandomResizedCrop', size=img_size, interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='ClsRandAugment', num_ops=2, magnitude=9, magnitude_std=0.5, prob=0.5),
    dict(type='PackClsInputs'),
]
test_pipeline = [
    dict(type='CheckedLoadImage'),
    dict(type='ClsResizeShortEdge', size=round(img_size / 0.875), interpolation='bicubic'),
    dict(type='ClsCenterCrop', size=img_size),
    dict(type='PackClsInputs'),
]
_dataset = dict(
    type='ImageNetFolder',
    data_root=data_root,
    ann_file='',
    metainfo=dict(classes=classes),
    num_classes=num_classes,
)
train_dataloader = dict(
    batch_size=64,
    dataset=dict(
        _delete_=True, data_prefix=dict(img_path='train'), pipeline=train_pipeline, **_dataset
    ),
)
val_dataloader = dict(
    batch_size=64,
    dataset=dict(
        _delete_=True, data_prefix=dict(img_path='val'), pipeline=test_pipeline, **_dataset
    ),
)
test_dataloader = val_dataloader
val_evaluator = dict(topk=(1, min(5, num_classes)))
test_evaluator = val_evaluator
model = dict(
    backbone=dict(init_cfg=dict(type='Pretrained', checkpoint=checkpoint) if checkpoint else None),
    num_classes=num_classes,
    data_preprocessor=dict(mixup=dict(num_classes=num_classes)),
)
# DeiT's lr rule: 5e-4 x total batch / 512.
optim_wrapper = dict(optimizer=dict(lr=5e-4 * 64 / 512))
train_cfg = dict(max_epochs=100)
auto_scale_lr = dict(base_batch_size=64)
