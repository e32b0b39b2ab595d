# Depth quickstart: PVTv2-b0 + GLPN on synthetic NYU-layout scenes, a few minutes on a CPU.
# Data (reused when present): python -c "from pvtv2_dense.datasets import generate_nyu;
#     generate_nyu('data/synthetic', num_train=256, num_val=64)"
_base_ = [
    '../_base_/models/glpn_pvtv2-b0.py',
    '../_base_/datasets/synthetic_nyu.py',
    '../_base_/default_runtime_depth.py',
]
model = dict(
    data_preprocessor=dict(size=(64, 64)),
    backbone=dict(init_cfg=None),  # no pretrained weights needed (none can be downloaded)
    decode_head=dict(channels=32),
)
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.01))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-2, by_epoch=False, begin=0, end=50),
    dict(type='PolyLR', power=0.9, eta_min=1e-5, by_epoch=False, begin=50, end=1000),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=1000, val_interval=500)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='SafeCheckpointHook', by_epoch=False, interval=500, max_keep_ckpts=1),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'),
)
randomness = dict(seed=0)
# Flip test with tools/test.py --tta: mmseg's SegTTAModel merges logits, this averages depth.
tta_model = dict(type='DepthTTAModel')
