from .cls_accuracy import ClsAccuracy
from .depth_metric import CroppedDepthMetric

__all__ = ['ClsAccuracy', 'CroppedDepthMetric']
