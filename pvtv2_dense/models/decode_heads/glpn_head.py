"""GLPN decoder and depth head (Kim et al. 2022, "Global-Local Path Networks") for mmseg.

The decoder walks the pyramid from the deepest level up: every level is projected to
``channels`` by a 1x1 conv (skipped when the widths already agree, as in HF's GLPN), the
deepest map starts the global path, and at each shallower level a selective feature fusion
(SFF) block blends the local (skip) features with the upsampled global path. Two final x2
upsamplings bring the 1/4-scale result to full resolution, where a 3x3 conv, ReLU, 3x3 conv
and ``sigmoid * max_depth`` give metric depth.

Key names follow HF ``GLPNForDepthEstimation`` closely enough that
``pvtv2_dense.checkpoint.hf_glpn`` converts its weights one to one.
"""

import warnings
from collections.abc import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.models.utils import resize
from torch import Tensor

from ...errors import ConfigError
from ...registry import register_model


class SelectiveFeatureFusion(nn.Module):
    """Blend local and global features with two learned per-pixel sigmoid weights.

    Args:
        channels (int): width of both inputs (and of the output).
        norm_cfg (dict): norm layer of the two 3x3 conv blocks.
    """

    def __init__(self, channels: int, norm_cfg: dict):
        super().__init__()
        # Biases are kept before the norm: GLPN's (and HF's) convs have them.
        with warnings.catch_warnings():
            warnings.filterwarnings('ignore', 'Unnecessary conv bias')
            self.conv1 = ConvModule(
                2 * channels, channels, 3, padding=1, bias=True, norm_cfg=norm_cfg
            )
            self.conv2 = ConvModule(
                channels, channels // 2, 3, padding=1, bias=True, norm_cfg=norm_cfg
            )
        self.attn = nn.Conv2d(channels // 2, 2, 3, padding=1)

    def forward(self, local: Tensor, global_: Tensor) -> Tensor:
        weights = self.attn(self.conv2(self.conv1(torch.cat([local, global_], 1)))).sigmoid()
        return local * weights[:, :1] + global_ * weights[:, 1:]


@register_model()
class GLPNHead(BaseDecodeHead):
    """GLPN decoder + depth head for mmseg's ``DepthEstimator``.

    Args:
        in_channels (Sequence[int]): widths of the four backbone levels (shallow to deep), e.g.
            ``[32, 64, 160, 256]`` for PVTv2-b0. A level whose width differs from ``channels``
            gets a 1x1 projection (b0's 32-channel first stage included).
        channels (int): decoder width (GLPN: 64).
        max_depth (float): the largest depth the head can output (sigmoid x max_depth), in the
            units of the ground truth (metres in our configs).
        in_index (Sequence[int]): which backbone outputs to use. Defaults to ``(0, 1, 2, 3)``.
        norm_cfg (dict): norm of the SFF conv blocks. Defaults to BN.
        align_corners (bool): for the final resize to the input size. Defaults to False.
        loss_decode (dict | list[dict]): depth loss(es). Defaults to mmseg's ``SiLogLoss``.
        init_cfg (dict, optional): mmengine init config.
    """

    def __init__(
        self,
        in_channels: Sequence[int],
        channels: int = 64,
        max_depth: float = 10.0,
        in_index: Sequence[int] = (0, 1, 2, 3),
        norm_cfg: dict | None = None,
        align_corners: bool = False,
        loss_decode=None,
        init_cfg=None,
        **kwargs,
    ):
        if loss_decode is None:
            loss_decode = dict(type='SiLogLoss', loss_weight=1.0)
        if norm_cfg is None:
            norm_cfg = dict(type='BN', requires_grad=True)
        if len(in_channels) != len(in_index) or len(in_channels) < 2:
            raise ConfigError(
                f'GLPNHead: in_channels {list(in_channels)} and in_index {list(in_index)} must '
                'have the same length (at least 2 pyramid levels)'
            )
        if channels % 2:
            raise ConfigError(f'GLPNHead: channels must be even (SFF halves it), got {channels}')
        if not max_depth > 0:
            raise ConfigError(f'GLPNHead: max_depth must be > 0, got {max_depth}')
        super().__init__(
            in_channels=list(in_channels),
            channels=channels,
            num_classes=1,
            out_channels=1,
            in_index=list(in_index),
            input_transform='multiple_select',
            norm_cfg=norm_cfg,
            align_corners=align_corners,
            loss_decode=loss_decode,
            init_cfg=init_cfg,
            threshold=kwargs.pop('threshold', 0.5),  # unused (no binary mask); silences a warning
            **kwargs,
        )
        del self.conv_seg  # the depth head below replaces the classifier
        self.max_depth = float(max_depth)
        self.projections = nn.ModuleList(
            nn.Identity() if c == channels else nn.Conv2d(c, channels, 1) for c in in_channels
        )
        # One SFF per level above the deepest (the deepest starts the global path).
        self.fusions = nn.ModuleList(
            SelectiveFeatureFusion(channels, norm_cfg) for _ in in_channels[:-1]
        )
        self.depth_head = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(channels, 1, 3, padding=1),
        )

    @staticmethod
    def _up(x: Tensor) -> Tensor:
        return F.interpolate(x, scale_factor=2.0, mode='bilinear', align_corners=False)

    def decode(self, inputs: list[Tensor]) -> Tensor:
        """Decoder features at twice the resolution of the shallowest level (before the head)."""
        # Channels-last all the way: the full-resolution 3x3 convolutions, the bilinear
        # upsampling and the ReLUs are faster in it on CPU (docs/benchmarks.md); inputs are small.
        feats = [
            f.contiguous(memory_format=torch.channels_last) for f in self._transform_inputs(inputs)
        ]
        out = self._up(self.projections[-1](feats[-1]))
        for level in range(len(feats) - 2, -1, -1):
            local = self.projections[level](feats[level])
            if local.shape[2:] != out.shape[2:]:
                # Odd input sizes: stride-2 stages round up, x2 upsampling then overshoots.
                out = resize(out, size=local.shape[2:], mode='bilinear', align_corners=False)
            out = self._up(self.fusions[level](local, out))
        return self._up(out)

    def forward(self, inputs: list[Tensor]) -> Tensor:
        """Depth in [0, max_depth], shape (N, 1, H, W) with H, W = 4x the first level's size."""
        # Sigmoid in at least fp32: under bf16/fp16 autocast it rounds to 1 near max_depth,
        # which zeroes its gradient.
        x = self.depth_head(self.decode(inputs))
        return x.to(torch.promote_types(x.dtype, torch.float32)).sigmoid() * self.max_depth

    def loss_by_feat(self, depth: Tensor, batch_data_samples) -> dict:
        gt = torch.stack([s.gt_depth_map.data for s in batch_data_samples]).to(depth)
        if depth.shape[2:] != gt.shape[2:]:
            depth = resize(depth, size=gt.shape[2:], mode='bilinear', align_corners=False)
        losses = (
            self.loss_decode if isinstance(self.loss_decode, nn.ModuleList) else [self.loss_decode]
        )
        out = {}
        for loss in losses:
            out[loss.loss_name] = out.get(loss.loss_name, 0) + loss(depth, gt)
        return out

    def predict_by_feat(self, depth: Tensor, batch_img_metas: list[dict]) -> Tensor:
        """Resize the depth to the (padded) network input, as mmseg's heads do for logits."""
        meta = batch_img_metas[0]
        size = meta['img_shape'] if isinstance(meta['img_shape'], torch.Size) else None
        size = size or meta.get('pad_shape', meta['img_shape'])[:2]
        return resize(depth, size=size, mode='bilinear', align_corners=self.align_corners)
