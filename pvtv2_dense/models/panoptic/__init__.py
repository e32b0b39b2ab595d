"""Panoptic SegFormer (Li et al., CVPR 2022): detector, head, mask decoder, mask-wise merging."""

from .detector import PanopticSegFormer
from .head import PanopticSegFormerHead
from .mask_decoder import MaskAttention, MaskDecoder, MaskDecoderLayer
from .merging import mask_quality, mask_wise_merge

__all__ = [
    'MaskAttention',
    'MaskDecoder',
    'MaskDecoderLayer',
    'PanopticSegFormer',
    'PanopticSegFormerHead',
    'mask_quality',
    'mask_wise_merge',
]
