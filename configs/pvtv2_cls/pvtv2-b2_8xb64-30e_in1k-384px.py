# PVTv2-b2 fine-tuned at 384 from its 224 weights, DeiT's fine-tuning recipe (30 epochs, lr
# 5e-6 x total batch / 512, weight decay 1e-8, min lr 5e-6). PVTv2 has no position embedding to
# interpolate: the 224 weights load as they are. Test: shorter side int(384 * 256 / 224) = 438.
_base_ = './pvtv2-b2_8xb128-300e_in1k.py'
# The whole 224 classifier, head included (DeiT's --finetune): the published one by name, or
# your own run (work_dirs/pvtv2-b2_8xb128-300e_in1k/epoch_300.pth); official, HF, timm files.
load_from = 'pvt_v2_b2'
train_pipeline = [
    dict(type='CheckedLoadImage'),
    dict(type='ClsRandomResizedCrop', size=384, interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='ClsRandAugment', num_ops=2, magnitude=9, magnitude_std=0.5, prob=0.5),
    dict(type='PackClsInputs'),
]
test_pipeline = [
    dict(type='CheckedLoadImage'),
    dict(type='ClsResizeShortEdge', size=438, interpolation='bicubic'),
    dict(type='ClsCenterCrop', size=384),
    dict(type='PackClsInputs'),
]
train_dataloader = dict(batch_size=64, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=64, dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
optim_wrapper = dict(optimizer=dict(lr=5e-6 * 512 / 512, weight_decay=1e-8))
param_scheduler = [
    dict(type='DeiTCosineLR', warmup_epochs=5, warmup_lr=1e-6, eta_min=5e-6, by_epoch=True)
]
train_cfg = dict(max_epochs=30)
auto_scale_lr = dict(base_batch_size=512)
