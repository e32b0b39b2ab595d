"""mmdet's detection visualizer drawing every panoptic segment in a colour of its own.

mmdet's ``DetLocalVisualizer`` colours panoptic segments by class, so two touching instances of
one class (two people) merge into one patch of colour apart from a thin outline. Here each
segment gets its class colour shaded per instance (the first instance of a class in the class
colour, further ones lighter or darker), still with the outline and the class name; everything
else is mmdet's drawing.
"""

import numpy as np
from mmdet.evaluation import INSTANCE_OFFSET
from mmdet.registry import VISUALIZERS
from mmdet.visualization import DetLocalVisualizer
from mmdet.visualization.palette import get_palette
from mmengine.structures import PixelData

# Shades of a class colour for its 1st, 2nd, ... instance (cycled).
_SHADES = (1.0, 0.6, 1.35, 0.8, 1.2)


def segment_colours(ids, num_classes, palette):
    """One RGB colour per panoptic id: the class colour, shaded by the instance's rank."""
    base = get_palette(palette, num_classes)
    seen, colours = {}, []
    for seg_id in ids:
        label = int(seg_id) % INSTANCE_OFFSET
        rank = seen.get(label, 0)
        seen[label] = rank + 1
        shade = _SHADES[rank % len(_SHADES)]
        colours.append(tuple(int(c) for c in np.clip(np.array(base[label]) * shade, 0, 255)))
    return colours


@VISUALIZERS.register_module()
class PanopticLocalVisualizer(DetLocalVisualizer):
    """``DetLocalVisualizer`` with a colour per panoptic segment (same arguments)."""

    def _draw_panoptic_seg(self, image, panoptic_seg, classes, palette):
        # Relabel the segments 0..n-1 with one class name and colour each, so that mmdet's
        # drawing (outlines, masks, names) runs unchanged with per-segment colours.
        data = panoptic_seg.sem_seg[0]
        data = data.cpu().numpy() if hasattr(data, 'cpu') else np.asarray(data)
        ids = [i for i in np.unique(data) if i % INSTANCE_OFFSET < len(classes)]
        if not ids:  # mmdet's drawing fails on an empty map
            self.set_image(image)
            return self.get_image()
        colours = segment_colours(
            ids, len(classes), palette if self.mask_color is None else self.mask_color
        )
        relabelled = np.full(data.shape, len(ids), dtype=np.int64)
        for k, seg_id in enumerate(ids):
            relabelled[data == seg_id] = k
        names = [classes[int(i) % INSTANCE_OFFSET] for i in ids]
        mask_color, self.mask_color = self.mask_color, None
        try:
            return super()._draw_panoptic_seg(
                image, PixelData(sem_seg=relabelled[None]), names, colours
            )
        finally:
            self.mask_color = mask_color
