"""KITTI benchmark crop: the bottom-centre 352x1216 window that holds the projected LiDAR."""

from mmcv.transforms import BaseTransform

from ...errors import DataError
from ...registry import register_transform


@register_transform()
class KBCrop(BaseTransform):
    """Crop image and depth to the KITTI benchmark window (bottom rows, centred columns).

    KITTI raw frames are about 375x1242 and vary by a few pixels between drives; BTS and
    GLPDepth train and test on this fixed 352x1216 window. The crop is the same for the image
    and every map in ``seg_fields``. ``kb_frame`` = (frame height, width, top, left) is recorded
    so that ``CroppedDepthMetric(crop_reference='frame')`` can place the KITTI crops in frame
    coordinates, as BTS does (add it to ``PackSegInputs``' ``meta_keys``).

    Args:
        height (int): window height. Defaults to 352.
        width (int): window width. Defaults to 1216.
    """

    def __init__(self, height: int = 352, width: int = 1216):
        super().__init__()
        self.height, self.width = height, width

    def transform(self, results: dict) -> dict:
        h, w = results['img'].shape[:2]
        if h < self.height or w < self.width:
            raise DataError(
                f'KBCrop: {results.get("img_path")} is {w}x{h}, smaller than the '
                f'{self.width}x{self.height} KITTI benchmark window'
            )
        top, left = h - self.height, (w - self.width) // 2
        window = (slice(top, top + self.height), slice(left, left + self.width))
        results['img'] = results['img'][window]
        for key in results.get('seg_fields', []):
            results[key] = results[key][window]
        # The cropped window is what is evaluated: predictions go back to this size.
        results['img_shape'] = results['ori_shape'] = results['img'].shape[:2]
        # Full-frame geometry, for KITTI crops placed on the whole frame (BTS's convention).
        results['kb_frame'] = (h, w, top, left)
        return results

    def __repr__(self):
        return f'{type(self).__name__}(height={self.height}, width={self.width})'
