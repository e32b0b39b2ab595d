from .checked_load import CheckedLoadImage
from .cls_geometry import ClsCenterCrop, ClsRandomResizedCrop, ClsResizeShortEdge
from .corruptions import ImageCorruption  # noqa: F401  (registers it)
from .depth_augment import DepthPhotometric, VerticalCutDepth
from .depth_loading import DepthAnnotationError, LoadCheckedDepthAnnotation
from .kb_crop import KBCrop
from .pack_cls import PackClsInputs
from .rand_augment import ClsRandAugment

__all__ = [
    'CheckedLoadImage',
    'ClsCenterCrop',
    'ClsRandAugment',
    'ClsRandomResizedCrop',
    'ClsResizeShortEdge',
    'PackClsInputs',
    'DepthAnnotationError',
    'DepthPhotometric',
    'KBCrop',
    'LoadCheckedDepthAnnotation',
    'VerticalCutDepth',
]
