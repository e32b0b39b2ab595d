from .compile_hook import TorchCompileHook
from .cpu_bf16_optim_wrapper import CpuBf16OptimWrapper
from .deit_cosine_lr import DeiTCosineLR
from .depth_writer_hook import DepthPredictionWriterHook
from .finite_loss_hook import FiniteLossHook
from .glpdepth_lr import GLPDepthLR
from .panoptic_visualizer import PanopticLocalVisualizer
from .rng_state_hook import TorchRNGStateHook
from .safe_checkpoint_hook import SafeCheckpointHook, use_safe_checkpoint_hook

__all__ = [
    'CpuBf16OptimWrapper',
    'DeiTCosineLR',
    'DepthPredictionWriterHook',
    'FiniteLossHook',
    'GLPDepthLR',
    'PanopticLocalVisualizer',
    'SafeCheckpointHook',
    'TorchCompileHook',
    'TorchRNGStateHook',
    'use_safe_checkpoint_hook',
]
