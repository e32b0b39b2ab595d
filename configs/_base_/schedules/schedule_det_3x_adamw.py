# whai362/PVT's 3x schedule for its multi-scale + crop detectors (ATSS, GFL, Cascade / Mask R-CNN):
# AdamW lr 1e-4, betas (0.9, 0.999), weight decay 0.05, no decay on norms (the Swin keys of the
# official configs, which match nothing in PVTv2, are kept as written); 36 epochs, lr x0.1 after
# epochs 27 and 33, 500-iteration linear warmup from x0.001 (mmdet 2.13's schedule_1x). The lr is
# for 8 GPUs x 2 images (auto_scale_lr).
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.05),
    paramwise_cfg=dict(
        custom_keys={
            'absolute_pos_embed': dict(decay_mult=0.0),
            'relative_position_bias_table': dict(decay_mult=0.0),
            'norm': dict(decay_mult=0.0),
        }
    ),
)
max_epochs = 36
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500),
    dict(
        type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True, milestones=[27, 33], gamma=0.1
    ),
]
auto_scale_lr = dict(enable=False, base_batch_size=16)
