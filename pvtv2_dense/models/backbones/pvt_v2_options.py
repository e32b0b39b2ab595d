"""PVTv2's presets and options: the arch table (b0-b5, b2-li), HF ``PvtV2Config``'s option names
and defaults, the LayerNorm eps conventions, and the checks that turn an arch name or dict into a
full option dict."""

import copy
import difflib

from torch import nn

from ...errors import ConfigError

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

ACTIVATIONS = {
    'gelu': nn.GELU,
    # HF's "gelu_new" is the tanh approximation.
    'gelu_new': lambda: nn.GELU(approximate='tanh'),
    'relu': nn.ReLU,
    'selu': nn.SELU,
}


def resolve_arch(arch: str | dict, **overrides) -> dict:
    """Expand an arch name or dict plus keyword overrides into a full, checked option dict."""
    if isinstance(arch, str):
        if arch not in ARCH_SETTINGS:
            close = difflib.get_close_matches(arch.lower(), ARCH_SETTINGS, n=1, cutoff=0.5)
            hint = f" (did you mean '{close[0]}'?)" if close else ''
            raise ConfigError(
                f'PVTv2: unknown arch {arch!r}{hint}; expected one of {sorted(ARCH_SETTINGS)} or '
                'a dict of PvtV2Config options'
            )
        arch = ARCH_SETTINGS[arch]
    elif not isinstance(arch, dict):
        raise ConfigError(f'PVTv2: arch must be a str or dict, got {type(arch).__name__}')
    opts = copy.deepcopy(DEFAULT_OPTIONS)
    for source in (arch, overrides):
        unknown = sorted(set(source) - set(DEFAULT_OPTIONS))
        if unknown:
            close = difflib.get_close_matches(unknown[0], DEFAULT_OPTIONS, n=1, cutoff=0.6)
            hint = f" (did you mean '{close[0]}'?)" if close else ''
            raise ConfigError(
                f'PVTv2: unknown option(s) {unknown}{hint}; expected PvtV2Config options '
                f'{sorted(DEFAULT_OPTIONS)}'
            )
        opts.update(copy.deepcopy(source))
    n = opts['num_encoder_blocks']
    for key in PER_STAGE:
        if len(opts[key]) != n:
            raise ConfigError(
                f'PVTv2: {key} has {len(opts[key])} entries ({opts[key]}) but '
                f'num_encoder_blocks is {n}'
            )
    for i, (c, h) in enumerate(zip(opts['hidden_sizes'], opts['num_attention_heads'])):
        if c % h:
            raise ConfigError(
                f'PVTv2: hidden_sizes[{i}]={c} is not a multiple of num_attention_heads[{i}]={h}'
            )
    act = opts['hidden_act']
    if not callable(act) and act not in ACTIVATIONS:
        raise ConfigError(
            f'PVTv2: hidden_act {act!r} not supported; expected {sorted(ACTIVATIONS)}'
        )
    return opts


def norm_eps(opts: dict, where: str) -> float:
    """The LayerNorm eps at ``where`` (a key of ``OFFICIAL_EPS``): ``layer_norm_eps`` when
    given, else the official code's."""
    eps = opts['layer_norm_eps']
    return OFFICIAL_EPS[where] if eps is None else eps


def build_activation(act) -> nn.Module:
    return ACTIVATIONS[act]() if isinstance(act, str) else act
