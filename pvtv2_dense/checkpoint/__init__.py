from .formats import FORMATS, detect_format, to_official, to_pvtv2_dense
from .hf_segformer import segformer_head_to_pvtv2_dense, segformer_to_pvtv2_dense
from .io import read_state_dict
from .loading import describe, load_pretrained
from .safety import UnsafeCheckpointError, install_safe_checkpoint_loading, load_from_local_safely

__all__ = [
    'FORMATS',
    'UnsafeCheckpointError',
    'describe',
    'detect_format',
    'install_safe_checkpoint_loading',
    'load_from_local_safely',
    'load_pretrained',
    'read_state_dict',
    'segformer_head_to_pvtv2_dense',
    'segformer_to_pvtv2_dense',
    'to_official',
    'to_pvtv2_dense',
]
