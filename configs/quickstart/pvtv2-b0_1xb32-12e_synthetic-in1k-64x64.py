# Quickstart: PVTv2-b0 classification on the synthetic ImageNet-layout set (10 classes of
# textured shapes), a few minutes on a CPU. Same components as the ImageNet configs, small
# images, a short schedule and no batch mixing (too strong for 800 images and 12 epochs).
_base_ = [
    '../_base_/models/pvtv2-b0_in1k.py',
    '../_base_/datasets/imagenet_bs128.py',
    '../_base_/schedules/schedule_in1k_300e.py',
    '../_base_/default_runtime_cls.py',
]
num_classes = 10
data_root = 'data/synthetic/imagenet'
# The synthetic set's classes (pvtv2_dense/datasets/synthetic/imagenet.py, SHAPES).
classes = ('disk', 'square', 'triangle', 'ring', 'cross', 'diamond', 'hbar', 'vbar', 'half', 'ell')
model = dict(
    backbone=dict(drop_path_rate=0.0),
    num_classes=num_classes,
    data_preprocessor=dict(random_erasing=None, mixup=None),
)
train_pipeline = [
    dict(type='CheckedLoadImage'),
    dict(type='ClsRandomResizedCrop', size=64, scale=(0.5, 1.0)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackClsInputs'),
]
test_pipeline = [
    dict(type='CheckedLoadImage'),
    dict(type='ClsResizeShortEdge', size=64),
    dict(type='ClsCenterCrop', size=64),
    dict(type='PackClsInputs'),
]
train_dataloader = dict(
    batch_size=32,
    num_workers=1,
    dataset=dict(
        data_root=data_root,
        num_classes=num_classes,
        metainfo=dict(classes=classes),
        pipeline=train_pipeline,
    ),
)
val_dataloader = dict(
    batch_size=50,
    num_workers=1,
    dataset=dict(
        data_root=data_root,
        num_classes=num_classes,
        metainfo=dict(classes=classes),
        pipeline=test_pipeline,
    ),
)
test_dataloader = val_dataloader
val_evaluator = dict(topk=(1,))
test_evaluator = val_evaluator
optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = [
    dict(type='DeiTCosineLR', warmup_epochs=2, warmup_lr=1e-5, eta_min=1e-5, by_epoch=True)
]
train_cfg = dict(max_epochs=12, val_interval=4)
default_hooks = dict(logger=dict(interval=5), checkpoint=dict(interval=4, max_keep_ckpts=1))
randomness = dict(seed=0)
