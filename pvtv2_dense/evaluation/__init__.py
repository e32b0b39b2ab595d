from .depth_metric import CroppedDepthMetric

__all__ = ['CroppedDepthMetric']
