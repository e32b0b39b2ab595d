# Runtime shared by detection configs (mmdet scope).
default_scope = 'mmdet'
# Importing pvtv2_dense registers the backbone and the checked COCO dataset.
custom_imports = dict(imports=['pvtv2_dense'], allow_failed_imports=False)
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='SafeCheckpointHook', interval=1),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='DetVisualizationHook'),
)
env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='DetLocalVisualizer', vis_backends=vis_backends, name='visualizer')
log_processor = dict(type='LogProcessor', window_size=50, by_epoch=True)
log_level = 'INFO'
load_from = None
resume = False
# Checkpoints keep torch's random state (dropout, drop path), so --resume continues exactly.
# A config that sets its own custom_hooks lists this one too.
custom_hooks = [dict(type='TorchRNGStateHook')]
