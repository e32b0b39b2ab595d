"""PVTv2 image classifier: backbone, mean of the last stage's tokens, one linear layer.

The network and its loss are those of HF's ``PvtV2ForImageClassification`` and the official
``PyramidVisionTransformerV2`` (whai362/PVT, ``classification/pvt_v2.py``): the tokens of the last
stage, after its LayerNorm, are averaged and fed to a linear head.
"""

import torch
import torch.nn.functional as F
from mmengine.model import BaseModel
from mmengine.structures import BaseDataElement
from torch import nn

from ...registry import register_model
from ..utils.pretrained import convert_checkpoint_keys


def _build_backbone(cfg: dict) -> nn.Module:
    from mmseg.registry import MODELS

    cfg = dict(cfg)
    cfg.setdefault('out_indices', (-1,))
    return MODELS.build(cfg)


@register_model()
class PVTv2ImageClassifier(BaseModel):
    """Backbone + global mean pooling + linear head, trained with the DeiT recipe's losses.

    Loss, as HF defines it: mean-squared error when ``num_classes == 1`` (regression), otherwise
    cross-entropy (with ``label_smoothing``), or soft-target cross-entropy when the data
    preprocessor's Mixup/CutMix gave each sample a ``gt_score`` distribution.

    Checkpoints of the official repository, HF and timm (head included) load as they are: a
    load-state-dict pre-hook converts them (``pvtv2_dense.checkpoint.classifier``).

    Args:
        backbone (dict): the backbone config, e.g. ``dict(type='PVTv2', arch='b0')``; its
            ``out_indices`` defaults to the last stage only.
        num_classes (int): outputs of the head; 0 returns the pooled features. Defaults to 1000.
        label_smoothing (float): for hard labels (soft ones carry their own). Defaults to 0.
        data_preprocessor (dict, optional): e.g. ``dict(type='ClsDataPreprocessor', ...)``.
        init_cfg (dict, optional): mmengine init config of the whole model. Defaults to None.
    """

    def __init__(
        self,
        backbone: dict,
        num_classes: int = 1000,
        label_smoothing: float = 0.0,
        data_preprocessor: dict | None = None,
        init_cfg: dict | None = None,
    ):
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = _build_backbone(backbone)
        self.num_classes = num_classes
        self.label_smoothing = label_smoothing
        width = self.backbone.num_features[-1]
        self.head = nn.Linear(width, num_classes) if num_classes > 0 else nn.Identity()
        self._register_load_state_dict_pre_hook(self._convert_foreign_keys)

    @staticmethod
    def convert_state_dict(state_dict: dict) -> dict:
        """Our key names for an official, HF or timm classifier state dict (ours unchanged)."""
        return convert_checkpoint_keys('classifier', state_dict, note=False)

    def _convert_foreign_keys(self, state_dict, prefix, *args):
        # Runs before loading, so that released checkpoints load by path.
        inner = {k[len(prefix) :]: v for k, v in state_dict.items() if k.startswith(prefix)}
        converted = convert_checkpoint_keys('classifier', inner, self.backbone.spec.layer_norm_eps)
        if converted is not inner:
            for key in [k for k in state_dict if k.startswith(prefix)]:
                del state_dict[key]
            state_dict.update({prefix + k: v for k, v in converted.items()})

    def init_weights(self):
        self.backbone.init_weights()
        if isinstance(self.head, nn.Linear):
            nn.init.trunc_normal_(self.head.weight, std=self.backbone.spec.init_std)
            nn.init.zeros_(self.head.bias)

    def logits(self, inputs: torch.Tensor) -> torch.Tensor:
        """(B, num_classes) logits of (B, 3, H, W) images."""
        return self.head(self.backbone(inputs)[-1].mean(dim=(2, 3)))

    def loss_of(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """HF's loss: MSE for one output, else cross-entropy (soft targets allowed).

        Args:
            logits (Tensor): (B, num_classes).
            targets (Tensor): (B,) class indices or values, or (B, num_classes) probabilities.
        """
        if self.num_classes == 1:
            return F.mse_loss(logits.squeeze(-1), targets.to(logits.dtype).view(-1))
        if targets.ndim == 2:
            return F.cross_entropy(logits, targets.to(logits.dtype))
        return F.cross_entropy(logits, targets, label_smoothing=self.label_smoothing)

    def forward(
        self,
        inputs: torch.Tensor,
        data_samples: list[BaseDataElement] | None = None,
        mode: str = 'tensor',
    ):
        """mmengine's three modes: 'tensor' (logits), 'loss' (dict) and 'predict' (samples).

        Args:
            inputs (Tensor): normalized images, (B, 3, H, W).
            data_samples (list[BaseDataElement], optional): with ``gt_label`` (or the
                preprocessor's ``gt_score``) for 'loss'; filled with ``pred_score`` and
                ``pred_label`` by 'predict'.
            mode (str): 'tensor', 'loss' or 'predict'. Defaults to 'tensor'.
        """
        logits = self.logits(inputs)
        if mode == 'tensor':
            return logits
        if mode == 'loss':
            return dict(loss=self.loss_of(logits, stack_targets(data_samples, logits.device)))
        if mode == 'predict':
            return self.predict_samples(logits, data_samples)
        # mmengine's runner picks the mode: another one is a programming error, as in mmseg.
        raise RuntimeError(f"mode={mode!r}; expected 'tensor', 'loss' or 'predict'")

    def predict_samples(self, logits, data_samples=None):
        """Write softmax scores and the arg-max label into one data sample per image."""
        scores = logits.softmax(-1) if self.num_classes > 1 else logits
        if data_samples is None:
            data_samples = [BaseDataElement() for _ in range(len(logits))]
        for sample, score in zip(data_samples, scores):
            sample.set_field(score.detach(), 'pred_score')
            sample.set_field(score.argmax(-1, keepdim=True).detach(), 'pred_label')
        return data_samples


def stack_targets(data_samples, device) -> torch.Tensor:
    """The batch's soft targets ``gt_score`` when every sample has one, else ``gt_label``."""
    if all('gt_score' in s for s in data_samples):
        return torch.stack([s.gt_score for s in data_samples]).to(device)
    return torch.cat([s.gt_label.view(-1) for s in data_samples]).to(device)
