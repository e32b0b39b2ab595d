from .all_mlp_head import AllMLPHead, LinearEmbed
from .folded_all_mlp_head import FoldedAllMLPHead
from .glpn_head import GLPNHead

__all__ = ['AllMLPHead', 'FoldedAllMLPHead', 'GLPNHead', 'LinearEmbed']
