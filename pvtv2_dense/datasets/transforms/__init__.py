from .depth_augment import DepthPhotometric, VerticalCutDepth
from .depth_loading import DepthAnnotationError, LoadCheckedDepthAnnotation
from .kb_crop import KBCrop

__all__ = [
    'DepthAnnotationError',
    'DepthPhotometric',
    'KBCrop',
    'LoadCheckedDepthAnnotation',
    'VerticalCutDepth',
]
