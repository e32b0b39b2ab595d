"""Your own segmentation data: images and label maps in two folders, classes from the config."""

from mmseg.datasets import BaseSegDataset

from ..errors import ConfigError
from .checks import checked_dataset
from .seg_checked import CheckedSegDatasetMixin


@checked_dataset()
class CheckedSegDataset(CheckedSegDatasetMixin, BaseSegDataset):
    """``img_dir/X{img_suffix}`` with ``ann_dir/X{seg_map_suffix}``: a map of class indices.

    mmseg's ``BaseSegDataset`` with the checks of :class:`CheckedSegDatasetMixin`: besides the
    files, the label maps are checked against ``classes`` and ``reduce_zero_label`` when the
    dataset is built (a 0/255 binary mask, ``reduce_zero_label`` on a 0/1 mask, labels above the
    class count each stop with one line saying what to set).

    Args:
        metainfo (dict): ``classes`` (required) and ``palette`` (one RGB triple per class, or
            none for a fixed random one).
        **kwargs: the rest of ``BaseSegDataset``'s arguments (``data_root``, ``data_prefix``,
            ``img_suffix``, ``seg_map_suffix``, ``reduce_zero_label``, ``ignore_index``...).
    """

    def __init__(self, metainfo=None, **kwargs):
        classes = (metainfo or {}).get('classes')
        if not classes:
            raise ConfigError(
                'CheckedSegDataset: metainfo has no classes; set '
                'metainfo=dict(classes=(...), palette=[...])'
            )
        palette = metainfo.get('palette')
        if palette and len(palette) != len(classes):
            raise ConfigError(
                f'CheckedSegDataset: metainfo has {len(classes)} classes but {len(palette)} '
                'palette colours; give one (R, G, B) per class'
            )
        super().__init__(metainfo=metainfo, **kwargs)
