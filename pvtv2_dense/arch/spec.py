"""The typed architecture of a PVTv2: a frozen, validated spec of the network and of each stage.

Configs, checkpoints and exports speak HF ``PvtV2Config`` names (``hidden_sizes``,
``num_attention_heads``, ...); :meth:`PVTv2Spec.from_options` reads them and
:meth:`PVTv2Spec.to_hf` writes them, and nothing between (the layers) reads an option by its
string name. Every check of a value is in :meth:`PVTv2Spec.__post_init__`, and its one-line
``ConfigError`` names the config key.
"""

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from numbers import Integral, Real

import torch

from ..errors import ConfigError, did_you_mean
from .presets import ACTIVATION_NAMES, ARCH_SETTINGS, DEFAULT_OPTIONS, PER_STAGE, norm_eps

# Field of PVTv2Spec -> the PvtV2Config key that configs, checkpoints and exports use.
HF_NAMES = dict(
    num_channels='num_channels',
    depths='depths',
    dims='hidden_sizes',
    num_heads='num_attention_heads',
    mlp_ratios='mlp_ratios',
    sr_ratios='sr_ratios',
    patch_sizes='patch_sizes',
    strides='strides',
    act='hidden_act',
    proj_drop='hidden_dropout_prob',
    attn_drop='attention_probs_dropout_prob',
    drop_path_rate='drop_path_rate',
    init_std='initializer_range',
    layer_norm_eps='layer_norm_eps',
    qkv_bias='qkv_bias',
    linear='linear_attention',
)


@dataclass(frozen=True)
class StageSpec:
    """Everything one stage is built from (see :class:`PVTv2Spec` for the meaning)."""

    in_channels: int
    dims: int
    depth: int
    num_heads: int
    mlp_ratio: float
    sr_ratio: int
    patch_size: int
    stride: int
    drop_path_rates: tuple[float, ...]
    linear: bool
    qkv_bias: bool
    attn_drop: float
    proj_drop: float
    act: str | Callable
    layer_norm_eps: float | None

    def eps(self, where: str) -> float:
        """The LayerNorm eps at ``where`` ('patch_embed', 'reduction', 'block' or 'stage')."""
        return norm_eps(self.layer_norm_eps, where)


def _int_at_least(low):
    return lambda v: isinstance(v, Integral) and not isinstance(v, bool) and v >= low


def _unit(v):  # a rate: dropout or stochastic depth
    return isinstance(v, Real) and not isinstance(v, bool) and 0 <= v < 1


def _positive(v):
    return isinstance(v, Real) and not isinstance(v, bool) and math.isfinite(v) and v > 0


# PER_STAGE field -> (check of one entry, what the message says is expected).
_STAGE_CHECKS = dict(
    depths=(_int_at_least(1), 'an integer >= 1'),
    dims=(_int_at_least(1), 'an integer >= 1'),
    num_heads=(_int_at_least(1), 'an integer >= 1'),
    mlp_ratios=(_positive, 'a number > 0'),
    sr_ratios=(_int_at_least(1), 'an integer >= 1'),
    patch_sizes=(_int_at_least(1), 'an integer >= 1'),
    strides=(_int_at_least(1), 'an integer >= 1'),
)
_CHECKS = dict(
    num_channels=(_int_at_least(1), 'an integer >= 1'),
    proj_drop=(_unit, 'a number in [0, 1)'),
    attn_drop=(_unit, 'a number in [0, 1)'),
    drop_path_rate=(_unit, 'a number in [0, 1)'),
    init_std=(lambda v: _positive(v) or v == 0, 'a number >= 0'),
    layer_norm_eps=(lambda v: v is None or _positive(v), 'None or a number > 0'),
    qkv_bias=(lambda v: isinstance(v, bool), 'True or False'),
    linear=(lambda v: isinstance(v, bool), 'True or False'),
    act=(lambda v: callable(v) or v in ACTIVATION_NAMES, f'one of {list(ACTIVATION_NAMES)}'),
)


@dataclass(frozen=True)
class PVTv2Spec:
    """A PVTv2 network: per-stage tuples and the options every stage shares; checked when made.

    Args:
        depths (tuple[int]): blocks per stage.
        dims (tuple[int]): token width per stage (``hidden_sizes``).
        num_heads (tuple[int]): attention heads per stage, each dividing its width
            (``num_attention_heads``).
        mlp_ratios (tuple[float]): FFN hidden width over the token width, per stage.
        sr_ratios (tuple[int]): spatial reduction of the attention's keys and values, per stage.
        patch_sizes (tuple[int]): kernel of each stage's overlapping patch embedding.
        strides (tuple[int]): stride of each stage's patch embedding.
        num_channels (int): channels of the input images.
        act (str | callable): the FFN's activation (``hidden_act``).
        proj_drop (float): dropout after projections and in the FFN (``hidden_dropout_prob``).
        attn_drop (float): dropout on attention probabilities
            (``attention_probs_dropout_prob``).
        drop_path_rate (float): stochastic depth of the last block, rising linearly from 0.
        init_std (float): std of the truncated-normal init of linears (``initializer_range``).
        layer_norm_eps (float | None): one eps for every LayerNorm, or None for the official
            code's per norm (``presets.OFFICIAL_EPS``).
        qkv_bias (bool): biases in the query and key/value projections.
        linear (bool): linear SRA (``linear_attention``).

    Raises:
        ConfigError: a value outside its domain or per-stage tuples of different lengths; the
            message names the config key.
    """

    depths: tuple[int, ...] = (2, 2, 2, 2)
    dims: tuple[int, ...] = (32, 64, 160, 256)
    num_heads: tuple[int, ...] = (1, 2, 5, 8)
    mlp_ratios: tuple[float, ...] = (8, 8, 4, 4)
    sr_ratios: tuple[int, ...] = (8, 4, 2, 1)
    patch_sizes: tuple[int, ...] = (7, 3, 3, 3)
    strides: tuple[int, ...] = (4, 2, 2, 2)
    num_channels: int = 3
    act: str | Callable = 'gelu'
    proj_drop: float = 0.0
    attn_drop: float = 0.0
    drop_path_rate: float = 0.0
    init_std: float = 0.02
    layer_norm_eps: float | None = None
    qkv_bias: bool = True
    linear: bool = False

    def __post_init__(self):
        n = len(self.depths)
        if n < 1:
            raise ConfigError('PVTv2: depths is empty; expected one entry per stage')
        for name, (ok, expected) in _STAGE_CHECKS.items():
            values, key = getattr(self, name), HF_NAMES[name]
            if len(values) != n:
                raise ConfigError(
                    f'PVTv2: {key} has {len(values)} entries ({list(values)}) but '
                    f'num_encoder_blocks is {n}'
                )
            for i, v in enumerate(values):
                if not ok(v):
                    raise ConfigError(f'PVTv2: {key}[{i}]={v!r}; expected {expected}')
        for name, (ok, expected) in _CHECKS.items():
            if not ok(getattr(self, name)):
                raise ConfigError(
                    f'PVTv2: {HF_NAMES[name]}={getattr(self, name)!r}; expected {expected}'
                )
        for i, (c, h) in enumerate(zip(self.dims, self.num_heads)):
            if c % h:
                raise ConfigError(
                    f'PVTv2: hidden_sizes[{i}]={c} is not a multiple of '
                    f'num_attention_heads[{i}]={h}'
                )

    @classmethod
    def from_options(cls, arch: str | dict = 'b0', **overrides) -> 'PVTv2Spec':
        """The spec of a preset name or a dict of ``PvtV2Config`` options, plus overrides.

        Args:
            arch (str | dict): a key of ``ARCH_SETTINGS`` or ``PvtV2Config`` options (missing
                ones take HF's defaults).
            **overrides: ``PvtV2Config`` options overriding the preset.

        Raises:
            ConfigError: an unknown preset or option, or a value the spec refuses.
        """
        if isinstance(arch, str):
            if arch not in ARCH_SETTINGS:
                raise ConfigError(
                    f'PVTv2: unknown arch {arch!r}'
                    f'{did_you_mean(arch.lower(), ARCH_SETTINGS, cutoff=0.5)}; expected one of '
                    f'{sorted(ARCH_SETTINGS)} or a dict of PvtV2Config options'
                )
            arch = ARCH_SETTINGS[arch]
        elif not isinstance(arch, dict):
            raise ConfigError(f'PVTv2: arch must be a str or dict, got {type(arch).__name__}')
        opts = dict(DEFAULT_OPTIONS)
        for source in (arch, overrides):
            unknown = sorted(set(source) - set(DEFAULT_OPTIONS))
            if unknown:
                raise ConfigError(
                    f'PVTv2: unknown option(s) {unknown}'
                    f'{did_you_mean(unknown[0], DEFAULT_OPTIONS)}; expected PvtV2Config '
                    f'options {sorted(DEFAULT_OPTIONS)}'
                )
            opts.update(source)
        n = opts['num_encoder_blocks']
        for key in PER_STAGE:
            if not isinstance(opts[key], (list, tuple)):
                raise ConfigError(f'PVTv2: {key}={opts[key]!r}; expected a list, one per stage')
            if len(opts[key]) != n:
                raise ConfigError(
                    f'PVTv2: {key} has {len(opts[key])} entries ({opts[key]}) but '
                    f'num_encoder_blocks is {n}'
                )
        fields = {
            name: tuple(opts[key]) if key in PER_STAGE else opts[key]
            for name, key in HF_NAMES.items()
        }
        return cls(**fields)

    def to_hf(self) -> dict:
        """The ``PvtV2Config`` options of this spec (lists per stage), for checkpoints and
        exports."""
        opts = {key: getattr(self, name) for name, key in HF_NAMES.items()}
        opts.update({key: list(opts[key]) for key in PER_STAGE})
        opts['num_encoder_blocks'] = self.num_stages
        return {key: opts[key] for key in DEFAULT_OPTIONS}

    def replace(self, **changes) -> 'PVTv2Spec':
        """A checked copy with some fields changed (field names, not HF keys)."""
        return dataclasses.replace(self, **changes)

    @property
    def num_stages(self) -> int:
        return len(self.depths)

    def eps(self, where: str) -> float:
        """The LayerNorm eps at ``where`` ('patch_embed', 'reduction', 'block' or 'stage')."""
        return norm_eps(self.layer_norm_eps, where)

    def stages(self) -> tuple[StageSpec, ...]:
        """One :class:`StageSpec` per stage, with its blocks' stochastic depth rates (rising
        linearly over all blocks from 0 to ``drop_path_rate``, as the official code does)."""
        rates = torch.linspace(0, self.drop_path_rate, sum(self.depths), device='cpu').tolist()
        stages, start, in_channels = [], 0, self.num_channels
        for i, depth in enumerate(self.depths):
            stages.append(
                StageSpec(
                    in_channels=in_channels,
                    dims=self.dims[i],
                    depth=depth,
                    num_heads=self.num_heads[i],
                    mlp_ratio=self.mlp_ratios[i],
                    sr_ratio=self.sr_ratios[i],
                    patch_size=self.patch_sizes[i],
                    stride=self.strides[i],
                    drop_path_rates=tuple(rates[start : start + depth]),
                    linear=self.linear,
                    qkv_bias=self.qkv_bias,
                    attn_drop=self.attn_drop,
                    proj_drop=self.proj_drop,
                    act=self.act,
                    layer_norm_eps=self.layer_norm_eps,
                )
            )
            start += depth
            in_channels = self.dims[i]
        return tuple(stages)


def resolve_arch(arch: str | dict, **overrides) -> dict:
    """The full, checked ``PvtV2Config`` options of a preset or options dict plus overrides
    (the HF-named form, for checkpoints and exports)."""
    return PVTv2Spec.from_options(arch, **overrides).to_hf()
