from .formats import FORMATS, detect_format, to_official, to_pvtv2_dense
from .io import read_state_dict
from .loading import describe, load_pretrained

__all__ = [
    'FORMATS',
    'describe',
    'detect_format',
    'load_pretrained',
    'read_state_dict',
    'to_official',
    'to_pvtv2_dense',
]
