"""The PVTv2 backbone's entries of the implementation registry (``models/implementations.py``):
the names ``PVTv2(attn_impl=..., ffn_impl=...)`` takes.

The plain layers (``pvt_v2_layers.py``) are the definition; the speed-ups (``fast/``) subclass
them, replace only the seams their forwards call, and compute the same results (each names its
self-check; ``tests/models/test_fast_equivalence.py`` checks more). Imports run one way:
``pvt_v2_layers`` <- ``fast`` <- this table <- ``pvt_v2`` (the assembler).
"""

from functools import partial

from .. import implementations
from .fast import FastMixFFN, FastPVTv2Block, FastSpatialReductionAttention
from .fast.attention import self_check as attention_check
from .fast.block import self_check as block_check
from .fast.mix_ffn import self_check as ffn_check
from .pvt_v2_layers import MixFFN, PVTv2Block, SpatialReductionAttention

_register = implementations.register
# Plain: fused scaled_dot_product_attention; explicit softmax in fp32 (attention maps).
_register('attention', 'sdpa', partial(SpatialReductionAttention, fused=True))
_register('attention', 'eager', partial(SpatialReductionAttention, fused=False))
# A backward that recomputes the probabilities by matrix products, for few keys (refuses
# attention dropout); 'auto' takes it in fp32 CUDA training, SDPA otherwise.
for _route in ('few_key', 'auto'):
    _register(
        'attention',
        _route,
        partial(FastSpatialReductionAttention, route=_route),
        plain='sdpa',
        check=partial(attention_check, _route),
    )

# ffn_impl -> (what builds the block, what builds its FFN).
_register('ffn', 'plain', (PVTv2Block, MixFFN))


def _auto_ffn_check():
    block_check('auto')
    ffn_check()


# 'banded' (inference only): the FFN residual a band of rows at a time while they stay in cache;
# 'auto': bands and the linears as 1x1 convolutions where they pay (CPU inference on large maps).
for _name, _bands, _check in (('banded', 'always', block_check), ('auto', 'auto', _auto_ffn_check)):
    _register(
        'ffn',
        _name,
        (partial(FastPVTv2Block, bands=_bands), FastMixFFN),
        plain='plain',
        check=_check,
    )


def block_builder(attn_impl: str, ffn_impl: str):
    """What builds each block of a backbone with these implementations.

    Args:
        attn_impl (str): an 'attention' entry of the registry.
        ffn_impl (str): an 'ffn' entry of the registry.

    Returns:
        callable: a :class:`PVTv2Block` (or speed-up) taking the block's arguments.

    Raises:
        ConfigError: an unknown name.
    """
    attn_cls = implementations.get('attention', attn_impl).build
    block_cls, ffn_cls = implementations.get('ffn', ffn_impl).build
    return partial(block_cls, attn_cls=attn_cls, ffn_cls=ffn_cls)
