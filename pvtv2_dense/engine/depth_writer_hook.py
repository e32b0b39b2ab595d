"""Write depth predictions to disk during ``tools/test.py``: 16-bit PNGs and colour images."""

import os
import os.path as osp
from collections.abc import Sequence

import cv2
import numpy as np
from mmengine.hooks import Hook

from ..errors import ConfigError
from ..registry import register_hook


def _test_image_root(runner) -> str | None:
    """The test dataset's ``data_prefix['img_path']`` (already joined with ``data_root``)."""
    try:
        dataset = runner.test_dataloader.dataset
    except AttributeError:  # no runner (called directly) or no test loop
        return None
    prefix = getattr(dataset, 'data_prefix', None)
    root = prefix.get('img_path') if isinstance(prefix, dict) else None
    return osp.abspath(root) if root else None


@register_hook()
class DepthPredictionWriterHook(Hook):
    """Save every test prediction as a 16-bit PNG and as a colourised image.

    Files: ``{out_dir}/depth_png/{name}.png`` (uint16, depth x ``png_scale``: millimetres for
    metre depth; clipped to 65535, the format's limit) and ``{out_dir}/depth_color/{name}.png``
    (``colormap``, 0 .. ``max_depth`` -> dark .. bright). ``name`` is the image's path relative to
    the test dataset's image folder (``data_prefix['img_path']``) without its extension, sub-folders
    kept: NYU's flat ``images/test/0001.jpg`` gives ``0001``, KITTI's
    ``raw/2011_09_26/2011_09_26_drive_0002_sync/image_02/data/0000000005.png`` gives
    ``2011_09_26/2011_09_26_drive_0002_sync/image_02/data/0000000005``, so frame numbers that
    repeat across drives stay apart. An image outside that folder (or with no known folder) is
    named by its file name. A name already written in this run gets the image's folder name
    prefixed, then a number appended, so one prediction never overwrites another.

    Args:
        out_dir (str, optional): where to write; ``None`` writes nothing (``tools/test.py
            --show-dir DIR`` fills it in).
        png_scale (float): depth units -> PNG integers. Defaults to 1000 (m -> mm).
        max_depth (float): depth at the top of the colour scale. Defaults to 10.
        colormap (int): an OpenCV colormap. Defaults to ``cv2.COLORMAP_MAGMA``.
    """

    priority = 'LOW'

    def __init__(
        self,
        out_dir: str | None = None,
        png_scale: float = 1000.0,
        max_depth: float = 10.0,
        colormap: int = cv2.COLORMAP_MAGMA,
    ):
        if not png_scale > 0 or not max_depth > 0:
            raise ConfigError(
                f'DepthPredictionWriterHook: png_scale and max_depth must be > 0, got '
                f'{png_scale}, {max_depth}'
            )
        self.out_dir, self.png_scale, self.max_depth, self.colormap = (
            out_dir,
            png_scale,
            max_depth,
            colormap,
        )
        self._names = set()
        self._img_root = None

    def before_test(self, runner) -> None:
        self._names = set()
        self._img_root = _test_image_root(runner)
        if self.out_dir is not None:
            for sub in ('depth_png', 'depth_color'):
                os.makedirs(osp.join(self.out_dir, sub), exist_ok=True)

    def _name(self, img_path: str) -> str:
        """A name not yet used in this run, '/'-separated, without extension."""
        stem = osp.splitext(osp.basename(img_path))[0]
        name = stem
        if self._img_root is not None:
            rel = osp.relpath(osp.abspath(img_path), self._img_root)
            if rel != os.pardir and not rel.startswith(os.pardir + os.sep):
                name = osp.splitext(rel)[0].replace(os.sep, '/')
        if name in self._names:  # same stem, another folder or extension
            head = name.rpartition('/')[0]
            prefixed = f'{osp.basename(osp.dirname(img_path))}_{stem}'
            name = f'{head}/{prefixed}' if head else prefixed
        base, n = name, 1
        while name in self._names:
            name, n = f'{base}_{n}', n + 1
        self._names.add(name)
        return name

    def after_test_iter(
        self, runner, batch_idx: int, data_batch=None, outputs: Sequence | None = None
    ) -> None:
        if self.out_dir is None or not outputs:
            return
        for sample in outputs:
            depth = sample.pred_depth_map.data.squeeze().float().cpu().numpy()
            name = self._name(sample.metainfo.get('img_path', f'pred_{batch_idx}'))
            png = np.clip(np.round(depth * self.png_scale), 0, 65535).astype(np.uint16)
            scaled = np.clip(depth / self.max_depth * 255.0, 0, 255).astype(np.uint8)
            colour = cv2.applyColorMap(scaled, self.colormap)
            for sub, image in (('depth_png', png), ('depth_color', colour)):
                path = osp.join(self.out_dir, sub, name + '.png')
                os.makedirs(osp.dirname(path), exist_ok=True)
                cv2.imwrite(path, image)
