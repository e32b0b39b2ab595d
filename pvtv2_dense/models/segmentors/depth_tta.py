"""Test-time augmentation for mmseg's ``DepthEstimator`` (mmseg's ``SegTTAModel`` merges logits).

With a ``TestTimeAug`` pipeline of a plain and a horizontally flipped copy, this is GLPDepth's
flip test: the flipped copy's prediction is flipped back by ``DepthEstimator.postprocess_result``
(it reads the ``flip`` meta) and the two are averaged.
"""

import torch
from mmengine.model import BaseTTAModel
from mmengine.structures import PixelData

from ...registry import register_model


@register_model()
class DepthTTAModel(BaseTTAModel):
    """Average the depth predicted for every augmented copy of an image.

    Args:
        module (dict): the ``DepthEstimator`` config.
        data_preprocessor (dict, optional): see ``BaseTTAModel``.
    """

    def merge_preds(self, data_samples_list: list[list]) -> list:
        merged = []
        for copies in data_samples_list:
            depth = torch.stack([s.pred_depth_map.data for s in copies]).mean(0)
            out = copies[0]
            out.set_data({'pred_depth_map': PixelData(data=depth)})
            merged.append(out)
        return merged
