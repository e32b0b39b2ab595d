"""Test-time augmentation for panoptic segmentation (``tools/test.py --tta`` with a panoptic
config): ``PanopticTTAModel`` merges the panoptic maps of flipped / rescaled copies of an image.

Panoptic maps cannot be averaged (segment ids of two passes do not correspond), so the merge
votes per pixel: every pass (flipped back) proposes a class for each pixel and the class most
passes agree on wins, ties going to the first pass of the ``tta_pipeline`` (the anchor: list the
plain scale and no-flip first). Pixels where the anchor's class wins keep the anchor's segment;
the others take the segment of a pass that voted for the winner (stuff segments of one class
merge; thing segments of other passes get instance ids of their own). The result is mmdet's
panoptic convention: ``pred_panoptic_seg.sem_seg`` (1, H, W) = class + instance * 1000.
"""

import numpy as np
import torch
from mmdet.evaluation.functional import INSTANCE_OFFSET
from mmdet.structures import DetDataSample
from mmengine.model import BaseTTAModel
from mmengine.structures import PixelData

from ..registry import register_model

_FLIPS = {'horizontal': (1,), 'vertical': (0,), 'diagonal': (0, 1)}


def unflip(pan: np.ndarray, meta: dict) -> np.ndarray:
    """The map of a flipped pass in the original image's frame."""
    if not meta.get('flip'):
        return pan
    return np.flip(pan, _FLIPS[meta.get('flip_direction') or 'horizontal'])


def vote_merge(maps) -> np.ndarray:
    """Merge panoptic maps (class + instance * INSTANCE_OFFSET, same shape, anchor first)."""
    maps = np.stack(maps).astype(np.int64)
    labels = maps % INSTANCE_OFFSET
    agree = (labels[:, None] == labels[None]).sum(1)  # (passes, H, W): passes agreeing with each
    winner = np.argmax(agree, axis=0)  # first maximum: the anchor wins ties
    merged = np.take_along_axis(maps, winner[None], 0)[0]
    instances = merged // INSTANCE_OFFSET
    # Thing ids of pass k > 0 move to k * stride + id, so that no two segments share an id.
    stride = int(maps.max() // INSTANCE_OFFSET) + 1
    moved = (winner > 0) & (instances > 0)
    merged[moved] += (winner[moved] * stride) * INSTANCE_OFFSET
    return merged


@register_model()
class PanopticTTAModel(BaseTTAModel):
    """Merges the passes of ``TestTimeAug`` for a panoptic model by per-pixel class voting
    (see the module docstring). Config: ``tta_model = dict(type='PanopticTTAModel')``."""

    def merge_preds(self, data_samples_list):
        return [self._merge(samples) for samples in data_samples_list]

    def _merge(self, samples) -> DetDataSample:
        maps = []
        shape = None
        for sample in samples:
            pan = sample.pred_panoptic_seg.sem_seg[0].cpu().numpy()
            pan = unflip(pan, sample.metainfo)
            if shape is None:
                shape = pan.shape
            elif pan.shape != shape:  # passes are rescaled to the original size; be safe
                import cv2

                pan = cv2.resize(
                    pan.astype(np.float64), shape[::-1], interpolation=cv2.INTER_NEAREST
                ).astype(np.int64)
            maps.append(pan)
        merged = vote_merge(maps)
        out = DetDataSample(metainfo=samples[0].metainfo)
        out.pred_panoptic_seg = PixelData(sem_seg=torch.from_numpy(merged)[None])
        for key in ('gt_instances', 'gt_panoptic_seg'):
            if key in samples[0]:
                out.set_field(samples[0].get(key), key)
        return out
