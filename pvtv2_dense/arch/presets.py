"""PVTv2's presets and the LayerNorm eps convention, the ground floor that the models, the
checkpoint converters and the exporters all import (it imports nothing of the package but its
errors).

Option names and defaults are those of HF's ``PvtV2Config``: they are what configs write and what
checkpoints and exports exchange. The typed form the layers are built from is
:class:`pvtv2_dense.arch.PVTv2Spec`.
"""

# Options shared by every preset; names and defaults are those of HF's PvtV2Config.
DEFAULT_OPTIONS = dict(
    num_channels=3,
    num_encoder_blocks=4,
    depths=[2, 2, 2, 2],
    sr_ratios=[8, 4, 2, 1],
    hidden_sizes=[32, 64, 160, 256],
    patch_sizes=[7, 3, 3, 3],
    strides=[4, 2, 2, 2],
    num_attention_heads=[1, 2, 5, 8],
    mlp_ratios=[8, 8, 4, 4],
    hidden_act='gelu',
    hidden_dropout_prob=0.0,
    attention_probs_dropout_prob=0.0,
    initializer_range=0.02,
    drop_path_rate=0.0,
    # None: the official code's eps per norm (OFFICIAL_EPS); a number: every LayerNorm, as in HF.
    layer_norm_eps=None,
    qkv_bias=True,
    linear_attention=False,
)

# LayerNorm eps of the official PVTv2 code (whai362/PVT, which trained the released weights;
# SegFormer's MiT and timm have the same): torch's default in the patch embeddings and the
# spatial reduction, 1e-6 in the blocks and after each stage.
OFFICIAL_EPS = dict(patch_embed=1e-5, reduction=1e-5, block=1e-6, stage=1e-6)

_WIDE = [64, 128, 320, 512]
ARCH_SETTINGS = {
    'b0': dict(hidden_sizes=[32, 64, 160, 256], depths=[2, 2, 2, 2]),
    'b1': dict(hidden_sizes=_WIDE, depths=[2, 2, 2, 2]),
    'b2': dict(hidden_sizes=_WIDE, depths=[3, 4, 6, 3]),
    'b2-li': dict(hidden_sizes=_WIDE, depths=[3, 4, 6, 3], linear_attention=True),
    'b3': dict(hidden_sizes=_WIDE, depths=[3, 4, 18, 3]),
    'b4': dict(hidden_sizes=_WIDE, depths=[3, 8, 27, 3]),
    'b5': dict(hidden_sizes=_WIDE, depths=[3, 6, 40, 3], mlp_ratios=[4, 4, 4, 4]),
}

# The options that hold one entry per stage.
PER_STAGE = (
    'depths',
    'sr_ratios',
    'hidden_sizes',
    'patch_sizes',
    'strides',
    'num_attention_heads',
    'mlp_ratios',
)

# hidden_act names the layers build (HF's "gelu_new" is the tanh approximation).
ACTIVATION_NAMES = ('gelu', 'gelu_new', 'relu', 'selu')


def norm_eps(layer_norm_eps: float | None, where: str) -> float:
    """The LayerNorm eps at ``where`` (a key of ``OFFICIAL_EPS``).

    Args:
        layer_norm_eps (float | None): the option: one eps for every norm, or None for the
            official code's eps per norm.
        where (str): 'patch_embed', 'reduction', 'block' or 'stage'.
    """
    return OFFICIAL_EPS[where] if layer_norm_eps is None else layer_norm_eps
