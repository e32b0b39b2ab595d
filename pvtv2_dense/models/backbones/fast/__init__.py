"""Speed-ups of the PVTv2 layers, chosen by name in ``implementations.py``.

Each class here subclasses a plain layer of ``pvt_v2_layers.py`` and replaces only the narrow
methods its plain forward calls (the seams): the same parameters (so checkpoints are
interchangeable) and the same results, checked in ``tests/models/test_fast_equivalence.py``. What a
speed-up cannot reproduce exactly it refuses with a one-line error instead of approximating it.
"""

from .attention import FastSpatialReductionAttention, few_key_attention
from .block import FastPVTv2Block
from .mix_ffn import FastMixFFN, token_linear

__all__ = [
    'FastMixFFN',
    'FastPVTv2Block',
    'FastSpatialReductionAttention',
    'few_key_attention',
    'token_linear',
]
