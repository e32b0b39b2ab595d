from .ade20k import generate_ade20k
from .coco import generate_coco
from .coco_panoptic import generate_coco_panoptic
from .imagenet import generate_imagenet
from .kitti import generate_kitti
from .nyu import generate_nyu
from .seg_folder import generate_seg_folder

__all__ = [
    'generate_ade20k',
    'generate_coco',
    'generate_coco_panoptic',
    'generate_imagenet',
    'generate_kitti',
    'generate_nyu',
    'generate_seg_folder',
]
