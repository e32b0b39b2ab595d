"""Mixed precision on the CPU: mmengine's ``AmpOptimWrapper`` refuses to start without a CUDA,
NPU, MLU or MUSA device (mmengine 0.10.7), although PyTorch's CPU autocast runs bfloat16.

``CpuBf16OptimWrapper`` is mmengine's plain ``OptimWrapper`` whose forward context (the model's
data preprocessing and loss, as ``BaseModel.train_step`` runs them) is
``torch.autocast('cpu', dtype=torch.bfloat16)``. bfloat16 keeps float32's exponent range, so
there is no loss scaling; the parameters, gradients and optimizer state stay float32.
``tools/train.py --amp`` selects it when no GPU is available.
"""

from contextlib import contextmanager

import torch
from mmengine.optim import OptimWrapper
from mmengine.registry import OPTIM_WRAPPERS


# mmengine's root registry: every task's OPTIM_WRAPPERS (mmseg, mmdet) looks names up there too.
@OPTIM_WRAPPERS.register_module()
class CpuBf16OptimWrapper(OptimWrapper):
    """``OptimWrapper`` (same arguments) running the forward pass under CPU bfloat16 autocast."""

    @contextmanager
    def optim_context(self, model):
        with super().optim_context(model), torch.autocast('cpu', dtype=torch.bfloat16):
            yield
