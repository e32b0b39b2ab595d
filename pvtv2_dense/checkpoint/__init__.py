from .fit import check_checkpoint, read_checkpoint, unwrap_model
from .formats import FORMATS, detect_format, to_official, to_pvtv2_dense
from .hf_segformer import segformer_head_to_pvtv2_dense, segformer_to_pvtv2_dense
from .init_step import PRETRAINED_STEP, PretrainedAnyFormat
from .io import read_state_dict
from .loading import FORMAT_NORM_EPS, describe, load_pretrained, norm_eps_hint, norm_eps_note
from .safety import (
    UnsafeCheckpointError,
    install_safe_checkpoint_loading,
    load_from_local_safely,
    load_from_url_safely,
)
from .sources import fetch_checkpoint, is_url

__all__ = [
    'FORMATS',
    'FORMAT_NORM_EPS',
    'PRETRAINED_STEP',
    'PretrainedAnyFormat',
    'UnsafeCheckpointError',
    'check_checkpoint',
    'describe',
    'detect_format',
    'fetch_checkpoint',
    'install_safe_checkpoint_loading',
    'is_url',
    'load_from_local_safely',
    'load_from_url_safely',
    'load_pretrained',
    'norm_eps_hint',
    'norm_eps_note',
    'read_checkpoint',
    'read_state_dict',
    'segformer_head_to_pvtv2_dense',
    'segformer_to_pvtv2_dense',
    'to_official',
    'to_pvtv2_dense',
    'unwrap_model',
]
