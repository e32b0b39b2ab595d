"""PVTv2 image classifier: backbone, mean pooling over the last stage, linear head."""

from typing import Optional, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import nn

from ...registry import register_model
from ..backbones.pvt_v2 import PVTv2


@register_model()
class PVTv2ImageClassifier(BaseModule):
    """Backbone + global mean pooling + linear classifier, as HF's PvtV2ForImageClassification.

    With ``num_classes=1`` the loss is mean-squared error (regression); otherwise cross-entropy.

    Args:
        arch (str | dict): backbone preset or options, see :class:`PVTv2`. Defaults to 'b0'.
        num_classes (int): outputs of the head; 0 gives pooled features. Defaults to 1000.
        init_cfg (dict, optional): passed to the backbone (e.g. Pretrained). Defaults to None.
        **backbone_options: any further :class:`PVTv2` argument (drop_path_rate, attn_impl...).
    """

    def __init__(
        self,
        arch: Union[str, dict] = 'b0',
        num_classes: int = 1000,
        init_cfg: Optional[dict] = None,
        **backbone_options,
    ):
        super().__init__()
        backbone_options.setdefault('out_indices', (-1,))
        self.backbone = PVTv2(arch, init_cfg=init_cfg, **backbone_options)
        self.num_classes = num_classes
        width = self.backbone.num_features[-1]
        self.head = nn.Linear(width, num_classes) if num_classes > 0 else nn.Identity()

    def init_weights(self):
        self.backbone.init_weights()
        if isinstance(self.head, nn.Linear):
            nn.init.trunc_normal_(self.head.weight, std=self.backbone.arch['initializer_range'])
            nn.init.zeros_(self.head.bias)

    def forward(self, images: torch.Tensor, labels: Optional[torch.Tensor] = None) -> dict:
        """Returns ``dict(logits=...)``, plus ``loss`` when ``labels`` are given."""
        features = self.backbone(images)[-1]
        logits = self.head(features.mean(dim=(2, 3)))
        out = dict(logits=logits)
        if labels is not None:
            if self.num_classes == 1:
                out['loss'] = F.mse_loss(logits.squeeze(-1), labels.to(logits.dtype).view(-1))
            else:
                out['loss'] = F.cross_entropy(logits, labels)
        return out
