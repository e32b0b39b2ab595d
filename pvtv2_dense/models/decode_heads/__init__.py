from .all_mlp_head import AllMLPHead
from .glpn_head import GLPNHead
from .sync_bn import LocalSyncBatchNorm

__all__ = ['AllMLPHead', 'GLPNHead', 'LocalSyncBatchNorm']
