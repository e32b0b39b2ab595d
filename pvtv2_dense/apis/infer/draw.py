"""Pictures of predictions: the config's visualizer draws segmentation, depth, detection and
panoptic results; a classification is written on the image (mmengine's base ``Visualizer``,
which classification configs name, draws no data sample)."""

import cv2
import numpy as np
from mmengine.registry import VISUALIZERS

from ...errors import DataError
from .raw import classification_records


class Renderer:
    """Draws one data sample on its image and returns the picture (RGB).

    Args:
        cfg (Config): the config (its ``visualizer``).
        dataset_meta (dict): class names and palette.
        opacity (float): segmentation overlay alpha.
        score_thr (float): detection boxes drawn from this score on.
    """

    def __init__(self, cfg, dataset_meta, opacity, score_thr):
        vis_cfg = dict(cfg.visualizer)
        # A fresh instance: mmengine returns an existing visualizer of the same name.
        vis_cfg.update(name=f'infer_{id(self)}', save_dir=None)
        vis_cfg.pop('vis_backends', None)
        if 'Seg' in vis_cfg['type']:
            vis_cfg['alpha'] = opacity
        self.visualizer = VISUALIZERS.build(vis_cfg)
        self.visualizer.dataset_meta = dataset_meta
        self.class_names = list(dataset_meta.get('classes', ()))
        self.score_thr = score_thr
        self._drawn = []
        # mmseg's and mmdet's visualizers hand the picture to add_image when out_file is None.
        self.visualizer.add_image = lambda name, image, step=0: self._drawn.append(image)

    def __call__(self, image_bgr, sample):
        """The picture of ``sample`` on ``image_bgr`` (H, W, 3 uint8), as RGB uint8."""
        rgb = np.ascontiguousarray(image_bgr[..., ::-1])
        if 'pred_score' in sample and 'pred_label' in sample:
            return self._classification(rgb, sample)
        kwargs = dict(draw_gt=False, draw_pred=True, show=False, out_file=None)
        if 'pred_instances' in sample:
            kwargs['pred_score_thr'] = self.score_thr
        self._drawn.clear()
        try:
            self.visualizer.add_datasample('prediction', rgb, sample, **kwargs)
        except (IndexError, ValueError, RuntimeError, cv2.error) as err:
            # mmseg's overlay indexes with a tensor that a 1-pixel map turns into an int
            h, w = rgb.shape[:2]
            text = str(err).strip().splitlines()
            reason = text[0] if text else type(err).__name__
            raise DataError(
                f'the visualizer cannot draw this {w}x{h} (WxH) input: {reason}'
            ) from None
        return self._drawn.pop()

    def _classification(self, rgb, sample):
        # OpenCV text: mmengine's Visualizer would draw through matplotlib, ~0.1 s a frame.
        picture = rgb.copy()
        scale = max(min(rgb.shape[:2]) / 400, 0.3)
        thickness = max(int(round(scale * 2)), 1)
        y = 0
        for record in classification_records(sample, self.class_names, top=3):
            name = record.get('class', f'class {record["label"]}')
            text = f'{name}: {record["score"]:.2f}'
            (w, h), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
            cv2.rectangle(picture, (0, y), (w + 4, y + h + base + 4), (0, 0, 0), cv2.FILLED)
            y += h + 2
            cv2.putText(
                picture,
                text,
                (2, y),
                cv2.FONT_HERSHEY_SIMPLEX,
                scale,
                (255, 255, 255),
                thickness,
                cv2.LINE_AA,
            )
            y += base + 2
        return picture
