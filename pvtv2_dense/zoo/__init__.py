"""The model zoo: published checkpoints by short stable names (``manifest.yml``), fetched once
into a cache (or from a mirror, ``PVTV2_DENSE_MIRROR``), hash-checked, converted, and run."""

from .fetch import MIRROR_ENV, cache_dir, fetch_weights
from .manifest import config_of, configs_root, get_entry, is_zoo_name, load_manifest, names
from .models import (
    infer_args,
    init_model,
    is_model_name,
    released_model_args,
    resolve_model,
    resolve_weights,
)

__all__ = [
    'MIRROR_ENV',
    'cache_dir',
    'config_of',
    'configs_root',
    'fetch_weights',
    'get_entry',
    'infer_args',
    'init_model',
    'is_model_name',
    'is_zoo_name',
    'load_manifest',
    'names',
    'released_model_args',
    'resolve_model',
    'resolve_weights',
]
