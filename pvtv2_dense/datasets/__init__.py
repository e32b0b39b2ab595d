from .checks import CheckedSamplesMixin, out_of_range, sample_files
from .coco_checked import AnnotationError, CheckedCocoDataset, check_coco_dict
from .coco_panoptic_checked import (
    CheckedCocoPanopticDataset,
    CheckedLoadPanopticAnnotations,
    PanopticDataError,
    check_coco_panoptic_dict,
)
from .imagenet import ImageNetFolder
from .kitti_depth import CheckedNYUDataset, KITTIDepthDataset
from .seg_checked import (
    CheckedADE20KDataset,
    CheckedCityscapesDataset,
    CheckSegAnnotation,
    SegDataError,
)
from .synthetic import (
    generate_ade20k,
    generate_coco,
    generate_coco_panoptic,
    generate_imagenet,
    generate_kitti,
    generate_nyu,
)
from .transforms import *  # noqa: F401,F403  (registers the depth transforms)
from .transforms.checked_load import CheckedLoadImage

__all__ = [
    'generate_ade20k',
    'generate_coco',
    'generate_imagenet',
    'CheckedLoadImage',
    'ImageNetFolder',
    'generate_coco_panoptic',
    'generate_kitti',
    'generate_nyu',
    'KITTIDepthDataset',
    'CheckedNYUDataset',
    'CheckedSamplesMixin',
    'out_of_range',
    'sample_files',
    'AnnotationError',
    'CheckedCocoDataset',
    'check_coco_dict',
    'CheckedCocoPanopticDataset',
    'CheckedLoadPanopticAnnotations',
    'PanopticDataError',
    'check_coco_panoptic_dict',
    'CheckSegAnnotation',
    'CheckedADE20KDataset',
    'CheckedCityscapesDataset',
    'SegDataError',
]
