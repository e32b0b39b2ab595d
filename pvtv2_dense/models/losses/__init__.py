from .fused_cross_entropy import FusedCrossEntropyLoss, pixel_cross_entropy

__all__ = ['FusedCrossEntropyLoss', 'pixel_cross_entropy']
