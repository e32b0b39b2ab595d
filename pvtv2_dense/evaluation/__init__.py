from .cls_accuracy import ClsAccuracy
from .depth_metric import CroppedDepthMetric
from .fast_metrics import FastCocoMetric, FastCocoPanopticMetric
from .panoptic_results import (
    direct_panoptic_results,
    panoptic_evaluators,
    publish_panoptic_results,
)
from .panoptic_tta import PanopticTTAModel

__all__ = [
    'ClsAccuracy',
    'CroppedDepthMetric',
    'FastCocoMetric',
    'FastCocoPanopticMetric',
    'PanopticTTAModel',
    'direct_panoptic_results',
    'panoptic_evaluators',
    'publish_panoptic_results',
]
