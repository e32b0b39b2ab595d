from .data_preprocessor import ClsDataPreprocessor
from .image_classifier import PVTv2ImageClassifier

__all__ = ['ClsDataPreprocessor', 'PVTv2ImageClassifier']
