from .compile_hook import TorchCompileHook
from .cpu_bf16_optim_wrapper import CpuBf16OptimWrapper
from .deit_cosine_lr import DeiTCosineLR
from .depth_writer_hook import DepthPredictionWriterHook
from .glpdepth_lr import GLPDepthLR
from .panoptic_visualizer import PanopticLocalVisualizer
from .rng_state_hook import TorchRNGStateHook

__all__ = [
    'CpuBf16OptimWrapper',
    'DeiTCosineLR',
    'DepthPredictionWriterHook',
    'GLPDepthLR',
    'PanopticLocalVisualizer',
    'TorchCompileHook',
    'TorchRNGStateHook',
]
