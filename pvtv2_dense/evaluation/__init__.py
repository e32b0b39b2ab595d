from .cls_accuracy import ClsAccuracy
from .depth_metric import CroppedDepthMetric
from .panoptic_results import (
    direct_panoptic_results,
    panoptic_evaluators,
    publish_panoptic_results,
)

__all__ = [
    'ClsAccuracy',
    'CroppedDepthMetric',
    'direct_panoptic_results',
    'panoptic_evaluators',
    'publish_panoptic_results',
]
