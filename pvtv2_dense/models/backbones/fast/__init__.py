"""Speed-ups of the PVTv2 block, selected by ``PVTv2(attn_impl=..., ffn_impl=...)``.

Each class here subclasses the plain definition in ``pvt_v2.py``: the same parameters (so
checkpoints are interchangeable) and the same results, checked in
``tests/test_fast_equivalence.py``. What a speed-up cannot reproduce exactly it refuses with a
one-line error instead of approximating it.
"""

from functools import partial

from ....errors import ConfigError
from ..pvt_v2 import PVTv2Block
from .attention import FastSpatialReductionAttention, few_key_attention
from .block import FastPVTv2Block
from .mix_ffn import FastMixFFN, token_linear

__all__ = [
    'FastMixFFN',
    'FastPVTv2Block',
    'FastSpatialReductionAttention',
    'fast_block_cfg',
    'few_key_attention',
    'token_linear',
]


def fast_block_cfg(attn_impl: str, ffn_impl: str, opts: dict):
    """The block class and keyword arguments for implementations other than the plain pair.

    Args:
        attn_impl (str): 'sdpa', 'eager', 'few_key' or 'auto' (see :class:`PVTv2`).
        ffn_impl (str): 'plain', 'banded' or 'auto'.
        opts (dict): the backbone's resolved ``PvtV2Config`` options.

    Returns:
        tuple[type, dict]: what ``PVTv2Stage`` builds each block with.
    """
    if attn_impl in ('sdpa', 'eager'):
        kwargs = dict(fused=attn_impl == 'sdpa')
    else:
        if attn_impl == 'few_key' and opts['attention_probs_dropout_prob'] > 0:
            raise ConfigError(
                "PVTv2: attn_impl='few_key' has no attention dropout, but "
                f'attention_probs_dropout_prob={opts["attention_probs_dropout_prob"]}; use '
                "attn_impl='auto' or 'sdpa'"
            )
        kwargs = dict(attn_cls=FastSpatialReductionAttention, route=attn_impl)
    if ffn_impl == 'plain':
        return PVTv2Block, kwargs
    return FastPVTv2Block, dict(kwargs, ffn_cls=partial(FastMixFFN, mode=ffn_impl))
