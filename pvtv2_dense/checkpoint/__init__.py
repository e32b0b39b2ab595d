from .formats import FORMATS, detect_format, to_official, to_pvtv2_dense
from .hf_segformer import segformer_head_to_pvtv2_dense, segformer_to_pvtv2_dense
from .io import read_state_dict
from .loading import describe, load_pretrained

__all__ = [
    'FORMATS',
    'describe',
    'detect_format',
    'load_pretrained',
    'read_state_dict',
    'segformer_head_to_pvtv2_dense',
    'segformer_to_pvtv2_dense',
    'to_official',
    'to_pvtv2_dense',
]
