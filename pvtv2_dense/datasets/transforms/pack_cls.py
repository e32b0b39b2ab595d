"""Pack an image and its class label into the classifier's inputs and data sample."""

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.structures import BaseDataElement

from ...registry import register_transform


@register_transform()
class PackClsInputs(BaseTransform):
    """``inputs``: the (3, H, W) uint8 tensor; ``data_samples``: ``gt_label`` and the meta keys.

    Args:
        meta_keys (tuple[str]): result keys copied into the sample's metainfo.
    """

    def __init__(self, meta_keys=('img_path', 'ori_shape', 'img_shape')):
        self.meta_keys = meta_keys

    def transform(self, results):
        img = np.ascontiguousarray(results['img'].transpose(2, 0, 1))
        sample = BaseDataElement(metainfo={k: results[k] for k in self.meta_keys if k in results})
        if 'gt_label' in results:
            sample.gt_label = torch.as_tensor(results['gt_label'], dtype=torch.long).view(1)
        return dict(inputs=torch.from_numpy(img), data_samples=sample)
