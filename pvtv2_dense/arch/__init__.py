"""PVTv2's architecture, below everything that builds or converts one: the presets, the LayerNorm
eps convention and the typed spec. It imports nothing of the package but ``errors``."""

from .presets import (
    ACTIVATION_NAMES,
    ARCH_SETTINGS,
    DEFAULT_OPTIONS,
    OFFICIAL_EPS,
    PER_STAGE,
    norm_eps,
)
from .spec import HF_NAMES, PVTv2Spec, StageSpec, resolve_arch

__all__ = [
    'ACTIVATION_NAMES',
    'ARCH_SETTINGS',
    'DEFAULT_OPTIONS',
    'HF_NAMES',
    'OFFICIAL_EPS',
    'PER_STAGE',
    'PVTv2Spec',
    'StageSpec',
    'norm_eps',
    'resolve_arch',
]
