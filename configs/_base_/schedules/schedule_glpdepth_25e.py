# GLPDepth's schedule: 25 epochs, Adam (no weight decay), lr 3e-5 -> 1e-4 -> 3e-5 with power 0.9,
# GLPDepth's closed-form curve per iteration (GLPDepthLR): up over the first 25 // 2 = 12 epochs,
# mirrored down after, so the 25th epoch ends slightly below 3e-5 as in GLPDepth's train.py.
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-4, betas=(0.9, 0.999)))
param_scheduler = [
    dict(
        type='GLPDepthLR',
        eta_min=3e-5,
        power=0.9,
        by_epoch=True,
        begin=0,
        end=25,
        convert_to_iter_based=True,
    ),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=25, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='SafeCheckpointHook',
        by_epoch=True,
        interval=1,
        max_keep_ckpts=3,
        save_best='abs_rel',
        rule='less',
    ),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'),
)
# tools/test.py --show-dir DIR sets out_dir: 16-bit PNG (mm) and colourised predictions.
# Batch 12 in total (GLPDepth); --auto-scale-lr rescales for another total.
auto_scale_lr = dict(enable=False, base_batch_size=12)
