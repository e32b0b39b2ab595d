"""NYU Depth v2 in mmseg's layout (``images/`` and ``annotations/`` folders), also the layout of
your own depth data: mmseg's ``NYUDataset`` with the sample checks."""

import os.path as osp

from mmseg.datasets import NYUDataset

from .checks import CheckedSamplesMixin, checked_dataset


@checked_dataset()
class CheckedNYUDataset(CheckedSamplesMixin, NYUDataset):
    """mmseg's ``NYUDataset`` with the checks of :class:`CheckedSamplesMixin`: the folders exist,
    every image has its depth map, and a sample that fails to load names its files.

    File names need not follow NYU's ``{scene}_{id}``: a name without the scene (or without any
    digit, which mmseg's parser cannot take) gets ``category_id`` -1.
    """

    def _get_category_id_from_filename(self, image_fname: str) -> int:
        if not any(c.isdigit() for c in osp.basename(image_fname)):
            return -1
        return super()._get_category_id_from_filename(image_fname)
