"""ADE20K (SceneParsing, 150 classes): mmseg's dataset with the segmentation checks."""

from mmseg.datasets import ADE20KDataset

from .checks import checked_dataset
from .seg_checked import CheckedSegDatasetMixin


@checked_dataset()
class CheckedADE20KDataset(CheckedSegDatasetMixin, ADE20KDataset):
    """mmseg's ``ADE20KDataset`` with the checks of :class:`CheckedSegDatasetMixin`."""
