"""Batch norm that synchronises only when there is something to synchronise with.

torch's ``SyncBatchNorm`` raises on CPU inputs as soon as a process group exists (even a group of
one), and the official SegFormer code fails with "Default process group has not been initialized"
on a single GPU. This variant keeps the same parameters and buffers (checkpoints are
interchangeable with ``nn.BatchNorm2d`` / ``nn.SyncBatchNorm``) and decides per call. It is a
registered norm type: ``norm_cfg=dict(type='LocalSyncBN')`` in any config scope.
"""

import warnings

import torch
import torch.distributed as dist
from mmengine.registry import MODELS
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm


def should_sync(x: torch.Tensor, training: bool) -> bool:
    """True when batch statistics must be reduced across processes for input ``x``.

    Only in training, in a distributed run of more than one process, with the input on an
    accelerator (torch has no CPU implementation of synchronised batch norm).
    """
    if not training or not (dist.is_available() and dist.is_initialized()):
        return False
    if dist.get_world_size() < 2:
        return False
    if x.device.type == 'cpu':
        warnings.warn(
            'LocalSyncBatchNorm: synchronised batch norm needs GPU inputs; '
            'using per-process statistics on CPU',
            stacklevel=3,
        )
        return False
    return True


# mmcv's build_norm_layer looks norm types up from the current scope up to the root registry.
@MODELS.register_module('LocalSyncBN')
class LocalSyncBatchNorm(nn.SyncBatchNorm):
    """``SyncBatchNorm`` in multi-process GPU training, plain batch norm everywhere else.

    A subclass of :class:`torch.nn.SyncBatchNorm`, so mmengine's ``revert_sync_batchnorm`` and
    ``convert_sync_batchnorm`` treat it as SyncBN. Arguments are those of ``nn.SyncBatchNorm``.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if should_sync(x, self.training):
            return super().forward(x)
        # The plain batch-norm path (running stats, momentum) of torch's base class.
        return _BatchNorm.forward(self, x)
