"""KITTI depth (Eigen split) from a BTS/GLPDepth split file, for mmseg's depth pipeline."""

import os.path as osp

from mmseg.datasets import BaseSegDataset

from ..errors import DataError
from .checks import CheckedSamplesMixin, checked_dataset
from .confine import confined_join


@checked_dataset()
class KITTIDepthDataset(CheckedSamplesMixin, BaseSegDataset):
    """KITTI raw frames with projected-LiDAR ground truth, listed by a split file.

    Each line of ``ann_file`` is ``IMAGE DEPTH [FOCAL]``: the image path relative to
    ``data_prefix['img_path']`` and the 16-bit depth PNG (metres x 256) relative to
    ``data_prefix['depth_map_path']``, as in BTS's ``eigen_train_files_with_gt.txt``. Lines whose
    depth is ``None`` (frames without ground truth) are skipped. Every listed file must exist
    (:class:`CheckedSamplesMixin`).

    Args:
        ann_file (str): the split file (relative to ``data_root``).
        data_prefix (dict): ``img_path`` (raw data root) and ``depth_map_path`` (ground truth).
        **kwargs: the rest of ``BaseSegDataset``'s arguments.
    """

    METAINFO = dict(classes=('depth',))

    def __init__(self, ann_file: str, data_prefix=None, **kwargs):
        if data_prefix is None:
            data_prefix = dict(img_path='raw', depth_map_path='gt_depth')
        super().__init__(ann_file=ann_file, data_prefix=data_prefix, **kwargs)

    def load_data_list(self) -> list[dict]:
        if not osp.isfile(self.ann_file):
            raise DataError(f'KITTIDepthDataset: split file {self.ann_file} not found')
        img_root = self.data_prefix.get('img_path', '')
        depth_root = self.data_prefix.get('depth_map_path', '')
        data_list = []
        with open(self.ann_file) as f:
            for lineno, line in enumerate(f, 1):
                parts = line.split()
                if not parts:
                    continue
                if len(parts) < 2:
                    raise DataError(
                        f'{self.ann_file}:{lineno}: expected "IMAGE DEPTH [FOCAL]", got {line!r}'
                    )
                if parts[1] == 'None':
                    continue
                where = f'{self.ann_file}:{lineno}'
                info = dict(
                    img_path=confined_join(img_root, parts[0], where, 'image path'),
                    depth_map_path=confined_join(depth_root, parts[1], where, 'depth path'),
                    seg_fields=[],
                    category_id=0,
                )
                if len(parts) > 2:
                    try:
                        info['focal'] = float(parts[2])
                    except ValueError:
                        raise DataError(
                            f'{self.ann_file}:{lineno}: focal length {parts[2]!r} is not a number'
                        ) from None
                data_list.append(info)
        return data_list
