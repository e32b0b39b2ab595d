from .lean_msda import lean_msda
from .msda_attention import (
    MSDA_IMPLS,
    DeformableDETRMSDA,
    LeanMultiScaleDeformableAttention,
    MSDAImplMixin,
    set_msda_impl,
)
from .sync_bn import LocalSyncBatchNorm, should_sync

__all__ = [
    'MSDA_IMPLS',
    'DeformableDETRMSDA',
    'LeanMultiScaleDeformableAttention',
    'LocalSyncBatchNorm',
    'MSDAImplMixin',
    'lean_msda',
    'set_msda_impl',
    'should_sync',
]
