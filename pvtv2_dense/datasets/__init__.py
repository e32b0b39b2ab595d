"""Datasets, their checks and synthetic sets. One module per dataset, each class declared as
``@checked_dataset() class X(CheckedSamplesMixin, Base)`` (see ``checks.py`` and the "Adding a
dataset" section of data/README.md); importing this package registers them all."""

from .ade20k import CheckedADE20KDataset
from .checks import CheckedSamplesMixin, checked_dataset, out_of_range, sample_files
from .cityscapes import CheckedCityscapesDataset
from .coco_checked import AnnotationError, CheckedCocoDataset, check_coco_dict
from .coco_panoptic_checked import (
    CheckedCocoPanopticDataset,
    CheckedLoadPanopticAnnotations,
    PanopticDataError,
    check_coco_panoptic_dict,
)
from .imagenet import ImageNetFolder
from .kitti_depth import KITTIDepthDataset
from .nyu_depth import CheckedNYUDataset
from .samplers import RepeatAugSampler  # noqa: F401  (registers the sampler)
from .seg_checked import CheckSegAnnotation, SegDataError
from .seg_folder import CheckedSegDataset
from .synthetic import (
    generate_ade20k,
    generate_coco,
    generate_coco_panoptic,
    generate_imagenet,
    generate_kitti,
    generate_nyu,
    generate_seg_folder,
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
    'generate_seg_folder',
    'KITTIDepthDataset',
    'CheckedNYUDataset',
    'CheckedSamplesMixin',
    'checked_dataset',
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
    'CheckedSegDataset',
    'SegDataError',
]
