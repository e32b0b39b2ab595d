from .compile_hook import TorchCompileHook
from .deit_cosine_lr import DeiTCosineLR
from .depth_writer_hook import DepthPredictionWriterHook
from .glpdepth_lr import GLPDepthLR
from .panoptic_visualizer import PanopticLocalVisualizer
from .rng_state_hook import TorchRNGStateHook

__all__ = [
    'DeiTCosineLR',
    'DepthPredictionWriterHook',
    'GLPDepthLR',
    'PanopticLocalVisualizer',
    'TorchCompileHook',
    'TorchRNGStateHook',
]
