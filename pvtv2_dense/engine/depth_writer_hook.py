"""Write depth predictions to disk during ``tools/test.py``: 16-bit PNGs and colour images."""

import os
import os.path as osp
from collections.abc import Sequence
from typing import Optional

import cv2
import numpy as np
from mmengine.hooks import Hook

from ..registry import register_hook


@register_hook()
class DepthPredictionWriterHook(Hook):
    """Save every test prediction as a 16-bit PNG and as a colourised image.

    Files: ``{out_dir}/depth_png/{name}.png`` (uint16, depth x ``png_scale``: millimetres for
    metre depth; clipped to 65535, the format's limit) and ``{out_dir}/depth_color/{name}.png``
    (``colormap``, 0 .. ``max_depth`` -> dark .. bright). ``name`` is the image's file name;
    two images with the same name (from different folders) get the folder name prefixed, so
    one prediction never overwrites another.

    Args:
        out_dir (str, optional): where to write; ``None`` writes nothing (``tools/test.py
            --show-dir DIR`` fills it in).
        png_scale (float): depth units -> PNG integers. Defaults to 1000 (m -> mm).
        max_depth (float): depth at the top of the colour scale. Defaults to 10.
        colormap (int): an OpenCV colormap. Defaults to ``cv2.COLORMAP_MAGMA``.
    """

    priority = 'LOW'

    def __init__(self, out_dir: Optional[str] = None, png_scale: float = 1000.0,
                 max_depth: float = 10.0, colormap: int = cv2.COLORMAP_MAGMA):  # fmt: skip
        if not png_scale > 0 or not max_depth > 0:
            raise ValueError(
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

    def before_test(self, runner) -> None:
        self._names = set()
        if self.out_dir is not None:
            for sub in ('depth_png', 'depth_color'):
                os.makedirs(osp.join(self.out_dir, sub), exist_ok=True)

    def _name(self, img_path: str) -> str:
        stem = osp.splitext(osp.basename(img_path))[0]
        if stem in self._names:
            stem = f'{osp.basename(osp.dirname(img_path))}_{stem}'
        base, n = stem, 1
        while stem in self._names:
            stem, n = f'{base}_{n}', n + 1
        self._names.add(stem)
        return stem

    def after_test_iter(self, runner, batch_idx: int, data_batch=None,
                        outputs: Optional[Sequence] = None) -> None:  # fmt: skip
        if self.out_dir is None or not outputs:
            return
        for sample in outputs:
            depth = sample.pred_depth_map.data.squeeze().float().cpu().numpy()
            name = self._name(sample.metainfo.get('img_path', f'pred_{batch_idx}'))
            png = np.clip(np.round(depth * self.png_scale), 0, 65535).astype(np.uint16)
            cv2.imwrite(osp.join(self.out_dir, 'depth_png', name + '.png'), png)
            scaled = np.clip(depth / self.max_depth * 255.0, 0, 255).astype(np.uint8)
            colour = cv2.applyColorMap(scaled, self.colormap)
            cv2.imwrite(osp.join(self.out_dir, 'depth_color', name + '.png'), colour)
