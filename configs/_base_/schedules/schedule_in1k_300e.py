# DeiT / PVTv2 ImageNet schedule: AdamW, weight decay 0.05 (none on biases and norms), lr
# 5e-4 x total batch / 512, 300 epochs, 5 warmup epochs from 1e-6, cosine to 1e-5 (per epoch).
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(
        type='AdamW', lr=5e-4 * 1024 / 512, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.05
    ),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0),
)
param_scheduler = [
    dict(type='DeiTCosineLR', warmup_epochs=5, warmup_lr=1e-6, eta_min=1e-5, by_epoch=True)
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=300, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
# The lr above is for 8 GPUs x 128 images; `--auto-scale-lr` rescales it to another total batch.
auto_scale_lr = dict(base_batch_size=1024, enable=False)
