"""PVTv2 backbone (Wang et al., "PVT v2: Improved Baselines with Pyramid Vision Transformer").

One implementation for every task: segmentation, depth and detection configs all name
``type='PVTv2'``. Parameter names follow ``layers.{stage}.{patch_embed|blocks.{j}|norm}``; the
checkpoint converters map the official, SegFormer, HF, timm and mmdet formats onto them.
"""

import math
from collections.abc import Sequence

import torch
from mmengine.model import BaseModule
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from ...arch import ARCH_SETTINGS, DEFAULT_OPTIONS, PVTv2Spec, resolve_arch  # noqa: F401
from ...errors import ConfigError
from ...registry import register_model
from ..utils.pretrained import init_from_pretrained
from .implementations import block_builder
from .pvt_v2_layers import (  # noqa: F401  (the layers: part of this module's API)
    MixFFN,
    OverlapPatchEmbed,
    PVTv2Block,
    PVTv2Stage,
    SpatialReductionAttention,
)


@register_model()
class PVTv2(BaseModule):
    """PVTv2 backbone: four stages of overlapping patch embedding + SRA transformer blocks.

    The layers are in ``pvt_v2_layers.py``; this class assembles them, taking the attention and
    FFN implementations named by ``attn_impl`` and ``ffn_impl`` from the one table in
    ``implementations.py``. Every implementation runs the layers' plain forwards; the speed-ups
    (``fast/``) replace only the seams those forwards call.

    Every option of HF's ``PvtV2Config`` is accepted as a keyword and overrides the preset, e.g.
    ``PVTv2(arch='b2', drop_path_rate=0.1)``.

    LayerNorm eps: without ``layer_norm_eps`` the network is the official code's, which trained
    the released ImageNet and SegFormer weights (and timm reproduces): eps 1e-5 in the patch
    embeddings and the spatial reduction, 1e-6 in the blocks and after each stage.
    ``layer_norm_eps=X`` sets every LayerNorm to X, as HF's ``PvtV2Config`` does: 1e-6 is HF
    PvtV2, mmdet's PVTv2 and mmseg's MiT; 1e-5 is HF Segformer and GLPN.

    Output shapes: for an input of H x W, stage ``i`` gives a map of ``hidden_sizes[i]`` channels
    and size ``H_i x W_i`` with ``H_0 = floor((H + 2 * (p_0 // 2) - p_0) / s_0) + 1`` and the
    same rule for each later stage on the previous size (``p``: patch_sizes, ``s``: strides).
    With the default 7/4 then 3/2 embeddings this is ``ceil(H / 4)``, then halved with rounding
    up: a 97 x 131 input gives 25x33, 13x17, 7x9 and 4x5. Any size from 1 x 1 up works (see
    :class:`SpatialReductionAttention` for maps smaller than the reduction).

    Args:
        arch (str | dict): 'b0', 'b1', 'b2', 'b2-li', 'b3', 'b4', 'b5', or a dict of
            ``PvtV2Config`` options (missing ones take HF's defaults). Defaults to 'b0'.
        out_indices (Sequence[int]): stages whose feature maps are returned, 0-based.
            Defaults to (0, 1, 2, 3).
        frozen_stages (int): the first ``frozen_stages`` stages are set to eval mode and get no
            gradients; -1 or 0 freezes nothing. Defaults to -1.
        norm_eval (bool): keep normalization layers in eval mode while training (matters for
            batch norms placed in the network by a subclass; LayerNorm has no running stats).
            Defaults to False.
        with_cp (bool): gradient checkpointing per block, trading compute for memory.
            Defaults to False.
        attn_impl (str): how attention is computed. Plain definitions: 'sdpa'
            (``scaled_dot_product_attention``, fused) or 'eager' (explicit softmax, fp32 logits;
            what attention maps are computed with). Speed-ups with the same parameters and
            results (``fast/attention.py``): 'few_key' (a backward pass that
            recomputes the probabilities by matrix products, for few keys; no attention
            dropout) and 'auto' (few_key in fp32 CUDA training, sdpa otherwise). Defaults to
            'sdpa'.
        ffn_impl (str): how the Mix-FFN is computed: 'plain' (the definition), 'banded'
            (inference only: the block's plain norm, FFN and residual on a band of rows at a
            time while they stay in cache; ``fast/block.py``) or 'auto' (bands, and the FFN's
            linears as 1x1 convolutions, where that pays: CPU inference on large maps; plain
            otherwise). Defaults to 'plain'.
        channels_last_outputs (bool): return each map as a channels-last view of the stage's
            tokens instead of a contiguous NCHW copy; for heads that compute channels-last
            (``AllMLPHead``, ``GLPNHead``), which spares a copy each way. Defaults to False.
        init_cfg (dict, optional): ``dict(type='Pretrained', checkpoint=PATH)`` loads a checkpoint
            in any supported format (official PVT/SegFormer, HF, timm, mmdet, ours), found by its
            keys. Defaults to None.
        **options: any ``PvtV2Config`` option (num_channels, depths, hidden_sizes,
            drop_path_rate, linear_attention, layer_norm_eps, ...), overriding the preset.
    """

    def __init__(
        self,
        arch: str | dict = 'b0',
        out_indices: Sequence[int] = (0, 1, 2, 3),
        frozen_stages: int = -1,
        norm_eval: bool = False,
        with_cp: bool = False,
        attn_impl: str = 'sdpa',
        ffn_impl: str = 'plain',
        channels_last_outputs: bool = False,
        init_cfg: dict | None = None,
        **options,
    ):
        super().__init__(init_cfg=init_cfg)
        self.spec = PVTv2Spec.from_options(arch, **options)
        n = self.spec.num_stages
        if isinstance(out_indices, int):
            out_indices = [out_indices]
        self.out_indices = tuple(i % n if -n <= i < n else i for i in out_indices)
        bad = [i for i in self.out_indices if not 0 <= i < n]
        if bad or not self.out_indices:
            raise ConfigError(f'PVTv2: out_indices {tuple(out_indices)} must lie in [0, {n - 1}]')
        if not -1 <= frozen_stages <= n:
            raise ConfigError(f'PVTv2: frozen_stages={frozen_stages} must lie in [-1, {n}]')
        block_cls = block_builder(attn_impl, ffn_impl)
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self.with_cp = with_cp
        self.channels_last_outputs = channels_last_outputs
        self.num_features = [self.spec.dims[i] for i in self.out_indices]
        self.layers = nn.ModuleList(
            PVTv2Stage(stage, block_cls, with_cp) for stage in self.spec.stages()
        )
        self._freeze_stages()

    @property
    def arch(self) -> dict:
        """The ``PvtV2Config`` options of this backbone (HF names: for checkpoints and exports;
        the layers are built from :attr:`spec`)."""
        return self.spec.to_hf()

    def init_weights(self):
        if init_from_pretrained(self, 'backbone'):
            return
        std = self.spec.init_std
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=std)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.LayerNorm):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Conv2d):
                fan_out = m.kernel_size[0] * m.kernel_size[1] * m.out_channels // m.groups
                nn.init.normal_(m.weight, 0, math.sqrt(2.0 / fan_out))
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
        super().init_weights()

    def _freeze_stages(self):
        for stage in self.layers[: max(self.frozen_stages, 0)]:
            stage.eval()
            for p in stage.parameters():
                p.requires_grad = False

    def train(self, mode=True):
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, (_BatchNorm, nn.LayerNorm, nn.GroupNorm)):
                    m.eval()
        return self

    def forward(self, x: torch.Tensor, return_attentions: bool = False):
        """Run the stages.

        Args:
            x (Tensor): images, (B, num_channels, H, W).
            return_attentions (bool): also return the attention maps, one tuple per stage with one
                (B, heads, N_query, N_key) tensor per block (computed with the eager path).

        Returns:
            tuple[Tensor]: the (B, C_i, H_i, W_i) maps of the stages in ``out_indices``; with
            ``return_attentions``, a pair (maps, attentions).
        """
        outs, attentions = [], []
        for i, stage in enumerate(self.layers):
            x, stage_weights = stage(x, return_attentions)
            attentions.append(stage_weights)
            if i in self.out_indices:
                outs.append(x if self.channels_last_outputs else x.contiguous())
            if i == max(self.out_indices) and not return_attentions:
                break
        outs = tuple(outs)
        return (outs, tuple(attentions)) if return_attentions else outs
