"""mmseg's ``DepthMetric`` with the KITTI evaluation crops and a working ``depth_metrics``.

mmseg 1.2's metric computes all nine metrics (d1-d3, abs_rel, sq_rel, rmse, rmse_log, log10,
silog) but knows only the NYU crop, and its ``depth_metrics`` argument fails on any list (a
broken ``isinstance`` check). Here: ``crop_type`` also takes ``'garg_crop'`` and ``'eigen_crop'``
(KITTI), the NYU crop checks the frame size, and ``depth_metrics`` selects metrics.

The KITTI crops are fractions of an image, and the two reference codes apply them to different
images when the frame was cut to the 352x1216 KB window:

- ``crop_reference='window'``: fractions of the KB window, which is what the metric receives
  (GLPDepth: its datasets cut the window and ``cropping_img`` in its ``test.py`` crops that).
  On a 375x1242 frame the Garg crop keeps rows 143-348 and columns 43-1171 of the window.
- ``crop_reference='frame'``: fractions of the full frame, placed into the window with the
  ``kb_frame`` that ``KBCrop`` records (BTS: ``bts_eval.py`` pastes the prediction back into
  the frame). The same frame keeps window rows 130-347 and columns 31-1183.
"""

from collections.abc import Sequence

import torch
from mmseg.evaluation.metrics import DepthMetric

from ..errors import ConfigError
from ..registry import register_metric

# (top, bottom, left, right) as fractions of the image they apply to (crop_reference), rounded
# down as GLPDepth and BTS do.
KITTI_CROPS = {
    'garg_crop': (0.40810811, 0.99189189, 0.03594771, 0.96405229),
    'eigen_crop': (0.3324324, 0.91351351, 0.0359477, 0.96405229),
}
NYU_CROP = (45, 471, 41, 601)  # Eigen's crop of the 480x640 NYU frame (rows, columns)
CROP_REFERENCES = ('window', 'frame')  # GLPDepth's, BTS's


@register_metric()
class CroppedDepthMetric(DepthMetric):
    """Depth metrics on the valid pixels inside an evaluation crop.

    Args:
        crop_type (str, optional): ``None`` (whole frame), ``'nyu_crop'`` (Eigen crop of a
            480x640 NYU frame), ``'garg_crop'`` or ``'eigen_crop'`` (KITTI).
        crop_reference (str): what the KITTI crop fractions apply to: ``'window'``, the map
            evaluated (the KB window after ``KBCrop``; GLPDepth's convention), or ``'frame'``,
            the full frame given by the sample's ``kb_frame`` (BTS's convention; without
            ``kb_frame`` the map is the frame). See the module docstring.
        depth_metrics (Sequence[str], optional): a subset of ``DepthMetric.METRICS``; all by
            default.
        **kwargs: ``min_depth_eval``, ``max_depth_eval`` and the rest of ``DepthMetric``'s
            arguments.
    """

    CROPS = (None, 'nyu_crop', *KITTI_CROPS)

    def __init__(
        self,
        crop_type: str | None = None,
        crop_reference: str = 'window',
        depth_metrics: Sequence[str] | None = None,
        **kwargs,
    ):
        if crop_type not in self.CROPS:
            raise ConfigError(f'CroppedDepthMetric: crop_type {crop_type!r} not in {self.CROPS}')
        if crop_reference not in CROP_REFERENCES:
            raise ConfigError(
                f'CroppedDepthMetric: crop_reference {crop_reference!r} not in {CROP_REFERENCES}'
            )
        super().__init__(crop_type=None, **kwargs)
        self.crop_type, self.crop_reference = crop_type, crop_reference
        if depth_metrics is not None:
            unknown = set(depth_metrics) - set(self.METRICS)
            if unknown:
                raise ConfigError(
                    f'CroppedDepthMetric: unknown depth_metrics {sorted(unknown)}; '
                    f'expected a subset of {self.METRICS}'
                )
            self.metrics = tuple(depth_metrics)

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            # A KBCrop'ed sample's frame, for crop_reference='frame'.
            self._frame = sample.get('kb_frame')
            super().process(data_batch, [sample])
        self._frame = None

    def _get_eval_mask(self, gt_depth: torch.Tensor) -> torch.Tensor:
        valid = (gt_depth > self.min_depth_eval) & (gt_depth < self.max_depth_eval)
        if self.crop_type is None:
            return valid
        h, w = gt_depth.shape[-2:]
        frame = getattr(self, '_frame', None) if self.crop_reference == 'frame' else None
        full_h, full_w, off_y, off_x = frame if frame is not None else (h, w, 0, 0)
        crop = torch.zeros_like(valid)
        if self.crop_type == 'nyu_crop':
            top, bottom, left, right = NYU_CROP
            if h < bottom or w < right:
                raise ConfigError(
                    f"CroppedDepthMetric: crop_type 'nyu_crop' needs 480x640 NYU frames, got "
                    f'{h}x{w}; use crop_type=None for other data'
                )
        else:
            fy0, fy1, fx0, fx1 = KITTI_CROPS[self.crop_type]
            top, bottom = int(fy0 * full_h) - off_y, int(fy1 * full_h) - off_y
            left, right = int(fx0 * full_w) - off_x, int(fx1 * full_w) - off_x
        crop[..., max(top, 0) : max(bottom, 0), max(left, 0) : max(right, 0)] = True
        return valid & crop
