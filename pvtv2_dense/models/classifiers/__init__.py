from .image_classifier import PVTv2ImageClassifier

__all__ = ['PVTv2ImageClassifier']
