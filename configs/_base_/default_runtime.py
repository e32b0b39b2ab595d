# Runtime shared by segmentation and depth configs (mmseg scope).
default_scope = 'mmseg'
custom_imports = dict(imports=['pvtv2_dense'], allow_failed_imports=False)
env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='SegLocalVisualizer', vis_backends=vis_backends, name='visualizer')
log_processor = dict(by_epoch=False)
log_level = 'INFO'
load_from = None
resume = False
tta_model = dict(type='SegTTAModel')
# Checkpoints keep torch's random state (dropout, drop path), so --resume continues exactly.
# A config that sets its own custom_hooks lists this one too.
custom_hooks = [dict(type='TorchRNGStateHook')]
# torch.compile: add dict(type='TorchCompileHook') to custom_hooks (not mmengine's `compile = True`,
# which recompiles the whole train_step every batch with these models; see README).
