"""The one table of PVTv2's implementations, by the names ``PVTv2(attn_impl=..., ffn_impl=...)``
takes.

The plain layers (``pvt_v2_layers.py``) are the definition; the speed-ups (``fast/``) subclass
them, replace only the seams their forwards call, and compute the same results
(``tests/models/test_fast_equivalence.py``). Adding an implementation is one entry here. Imports run
one way: ``pvt_v2_layers`` <- ``fast`` <- this table <- ``pvt_v2`` (the assembler).
"""

from functools import partial

from ...errors import ConfigError
from .fast import FastMixFFN, FastPVTv2Block, FastSpatialReductionAttention
from .pvt_v2_layers import MixFFN, PVTv2Block, SpatialReductionAttention

# attn_impl -> what builds the attention (from SpatialReductionAttention's arguments).
ATTENTION = {
    # Plain: fused scaled_dot_product_attention; explicit softmax in fp32 (attention maps).
    'sdpa': partial(SpatialReductionAttention, fused=True),
    'eager': partial(SpatialReductionAttention, fused=False),
    # A backward that recomputes the probabilities by matrix products, for few keys (refuses
    # attention dropout); 'auto' takes it in fp32 CUDA training, SDPA otherwise.
    'few_key': partial(FastSpatialReductionAttention, route='few_key'),
    'auto': partial(FastSpatialReductionAttention, route='auto'),
}

# ffn_impl -> (what builds the block, what builds its FFN).
FFN = {
    'plain': (PVTv2Block, MixFFN),
    # Inference only: the FFN residual a band of rows at a time while they stay in cache.
    'banded': (partial(FastPVTv2Block, bands='always'), FastMixFFN),
    # Bands and the linears as 1x1 convolutions where they pay (CPU inference on large maps).
    'auto': (partial(FastPVTv2Block, bands='auto'), FastMixFFN),
}


def block_builder(attn_impl: str, ffn_impl: str):
    """What builds each block of a backbone with these implementations.

    Args:
        attn_impl (str): a key of ``ATTENTION``.
        ffn_impl (str): a key of ``FFN``.

    Returns:
        callable: a :class:`PVTv2Block` (or speed-up) taking the block's arguments.

    Raises:
        ConfigError: an unknown name.
    """
    if attn_impl not in ATTENTION:
        raise ConfigError(f'PVTv2: attn_impl={attn_impl!r}; expected one of {tuple(ATTENTION)}')
    if ffn_impl not in FFN:
        raise ConfigError(f'PVTv2: ffn_impl={ffn_impl!r}; expected one of {tuple(FFN)}')
    block_cls, ffn_cls = FFN[ffn_impl]
    return partial(block_cls, attn_cls=ATTENTION[attn_impl], ffn_cls=ffn_cls)
