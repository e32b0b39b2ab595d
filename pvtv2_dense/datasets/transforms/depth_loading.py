"""Depth-annotation loading that refuses maps which cannot be metric depth.

mmseg's ``LoadDepthAnnotation`` accepts whatever the PNG holds: an 8-bit visualisation, an RGB
colour map or a map of the wrong size load silently and train a model on garbage. This
subclass checks each map first and names the file in the error.
"""

import cv2
import numpy as np
from mmengine import fileio
from mmseg.datasets.transforms import LoadDepthAnnotation

from ...errors import DataError
from ...registry import register_transform


class DepthAnnotationError(DataError):
    """A depth annotation file that cannot be read as single-channel metric depth."""


@register_transform()
class LoadCheckedDepthAnnotation(LoadDepthAnnotation):
    """Load a single-channel 16-bit depth PNG, check it, then scale it like mmseg does.

    Checks (each failure raises ``DepthAnnotationError`` naming the file): the file decodes;
    it has one channel (not RGB/RGBA); it is 16-bit (8-bit maps are visualisations, not depth);
    its size equals the image's (load the image first); at least one pixel is valid (> 0).
    A sample without ``depth_map_path`` (inference) passes unchanged.

    Args:
        depth_rescale_factor (float): file value -> depth units (NYU mm -> m: 1e-3; KITTI: 1/256).
        check_size (bool): compare the size with ``results['img']``. Defaults to True.
        backend_args (dict, optional): mmengine file backend arguments.
    """

    def __init__(
        self, depth_rescale_factor: float = 1.0, check_size: bool = True, backend_args=None
    ):
        super().__init__(
            decode_backend='cv2',
            to_float32=True,
            depth_rescale_factor=depth_rescale_factor,
            backend_args=backend_args,
        )
        self.check_size = check_size

    def transform(self, results: dict) -> dict:
        path = results.get('depth_map_path')
        if path is None:
            # Inference (e.g. mmseg's MMSegInferencer keeps this step): no depth map to load.
            return results
        raw = np.frombuffer(fileio.get(path, self.backend_args), np.uint8)
        depth = cv2.imdecode(raw, cv2.IMREAD_UNCHANGED) if raw.size else None
        if depth is None:
            raise DepthAnnotationError(f'{path}: cannot be decoded as an image')
        if depth.ndim != 2:
            raise DepthAnnotationError(
                f'{path}: depth map has {depth.shape[2]} channels; expected a single-channel '
                '16-bit PNG (an RGB/colourised depth image is not metric depth)'
            )
        if depth.dtype != np.uint16:
            raise DepthAnnotationError(
                f'{path}: depth map is {depth.dtype} ({8 * depth.itemsize}-bit); expected uint16 '
                '(e.g. NYU millimetres, KITTI metres x 256). An 8-bit map is a visualisation '
                'with its scale lost'
            )
        if self.check_size and 'img' in results and depth.shape != results['img'].shape[:2]:
            raise DepthAnnotationError(
                f'{path}: depth map is {depth.shape[1]}x{depth.shape[0]} (WxH) but its image '
                f'{results.get("img_path")} is {results["img"].shape[1]}x{results["img"].shape[0]}'
            )
        if not depth.any():
            raise DepthAnnotationError(f'{path}: every pixel is 0 (invalid); no depth to learn')
        depth = depth.astype(np.float32) * self.depth_rescale_factor
        results['gt_depth_map'] = depth
        results['seg_fields'].append('gt_depth_map')
        results['depth_rescale_factor'] = self.depth_rescale_factor
        return results

    def __repr__(self):
        return (
            f'{type(self).__name__}(depth_rescale_factor={self.depth_rescale_factor}, '
            f'check_size={self.check_size})'
        )
