# Runtime of the depth configs: the shared one plus the hook that writes depth predictions.
_base_ = ['./default_runtime.py']
custom_hooks = [
    dict(type='TorchRNGStateHook'),
    dict(type='DepthPredictionWriterHook', out_dir=None, max_depth=10.0),
]
