"""Cityscapes (19 classes, ``*_gtFine_labelTrainIds.png``): mmseg's dataset with the
segmentation checks (a ``labelIds`` map, with values up to 33, is caught when it is built)."""

from mmseg.datasets import CityscapesDataset

from .checks import checked_dataset
from .seg_checked import CheckedSegDatasetMixin


@checked_dataset()
class CheckedCityscapesDataset(CheckedSegDatasetMixin, CityscapesDataset):
    """mmseg's ``CityscapesDataset`` with the checks of :class:`CheckedSegDatasetMixin`."""
