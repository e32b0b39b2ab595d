from .compile_hook import TorchCompileHook
from .depth_writer_hook import DepthPredictionWriterHook
from .glpdepth_lr import GLPDepthLR
from .panoptic_visualizer import PanopticLocalVisualizer
from .rng_state_hook import TorchRNGStateHook

__all__ = [
    'DepthPredictionWriterHook',
    'GLPDepthLR',
    'PanopticLocalVisualizer',
    'TorchCompileHook',
    'TorchRNGStateHook',
]
