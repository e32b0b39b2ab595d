"""PVTv2 backbone (Wang et al., "PVT v2: Improved Baselines with Pyramid Vision Transformer").

One implementation for every task: segmentation, depth and detection configs all name
``type='PVTv2'``. Parameter names follow ``layers.{stage}.{patch_embed|blocks.{j}|norm}``; the
checkpoint converters map the official, SegFormer, HF, timm and mmdet formats onto them.
"""

import math
from collections.abc import Sequence
from typing import Optional, Union

import torch
import torch.nn.functional as F
import torch.utils.checkpoint as cp
from mmcv.cnn.bricks import DropPath
from mmengine.model import BaseModule
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from ...errors import ConfigError
from ...registry import register_model
from ..utils.layout import image_to_tokens, tokens_to_image
from .pvt_v2_options import (  # noqa: F401  (ARCH_SETTINGS, DEFAULT_OPTIONS: part of this API)
    ARCH_SETTINGS,
    DEFAULT_OPTIONS,
    OFFICIAL_EPS,
    build_activation,
    norm_eps,
    resolve_arch,
)

# Implementations of the attention and the FFN (see PVTv2's docstring). The first of each is
# the plain definition in this file; the others live in ``fast/``, checked against it.
ATTN_IMPLS = ('sdpa', 'eager', 'few_key', 'auto')
FFN_IMPLS = ('plain', 'banded', 'auto')


class OverlapPatchEmbed(nn.Module):
    """Strided convolution with overlapping windows, then LayerNorm; returns tokens."""

    def __init__(self, in_channels, embed_dims, patch_size, stride, eps):
        super().__init__()
        self.proj = nn.Conv2d(
            in_channels, embed_dims, patch_size, stride=stride, padding=patch_size // 2
        )
        self.norm = nn.LayerNorm(embed_dims, eps=eps)

    def forward(self, x):
        x = self.proj(x)
        hw = x.shape[2:]
        return self.norm(image_to_tokens(x)), hw


class SpatialReductionAttention(nn.Module):
    """Multi-head attention whose keys and values come from a reduced copy of the map.

    ``sr_ratio > 1``: a strided ``sr_ratio`` convolution reduces the map (SRA); a map with fewer
    than ``sr_ratio`` rows or columns (which the official code cannot reduce) is reduced as its
    copy zero-padded at the bottom and right to ``sr_ratio`` would be. ``linear=True``: average
    pooling to 7x7, a 1x1 convolution, LayerNorm and GELU (linear SRA, cost linear in the number
    of pixels). Keys and values share one projection (``kv``), as in the official code.

    Args:
        dims (int): token width.
        num_heads (int): attention heads.
        sr_ratio (int): spatial reduction of the keys and values (SRA).
        linear (bool): linear SRA instead.
        qkv_bias (bool): biases in ``q`` and ``kv``.
        attn_drop (float): dropout on the attention probabilities.
        proj_drop (float): dropout after the output projection.
        eps (float): eps of the reduction's LayerNorm.
        fused (bool): attention through ``scaled_dot_product_attention``; False computes the
            softmax explicitly (what attention maps are returned from).
    """

    def __init__(
        self, dims, num_heads, sr_ratio, linear, qkv_bias, attn_drop, proj_drop, eps, fused=True
    ):
        super().__init__()
        self.num_heads = num_heads
        self.head_dims = dims // num_heads
        self.scale = self.head_dims**-0.5
        self.fused = fused
        self.q = nn.Linear(dims, dims, bias=qkv_bias)
        self.kv = nn.Linear(dims, dims * 2, bias=qkv_bias)
        self.attn_drop = nn.Dropout(attn_drop)
        self.proj = nn.Linear(dims, dims)
        self.proj_drop = nn.Dropout(proj_drop)
        self.linear = linear
        self.sr_ratio = sr_ratio
        if linear:
            self.pool = nn.AdaptiveAvgPool2d(7)
            self.sr = nn.Conv2d(dims, dims, 1)
            self.norm = nn.LayerNorm(dims, eps=eps)
            self.act = nn.GELU()
        elif sr_ratio > 1:
            self.sr = nn.Conv2d(dims, dims, sr_ratio, stride=sr_ratio)
            self.norm = nn.LayerNorm(dims, eps=eps)

    def reduce(self, x, hw):
        """The tokens keys and values are computed from: (B, M, C)."""
        if self.linear:
            x = self.sr(self.pool(tokens_to_image(x, hw)))
            return self.act(self.norm(image_to_tokens(x)))
        if self.sr_ratio > 1:
            x = tokens_to_image(x, hw)
            pad_h, pad_w = max(self.sr_ratio - hw[0], 0), max(self.sr_ratio - hw[1], 0)
            if pad_h or pad_w:
                x = F.pad(x, (0, pad_w, 0, pad_h))
            return self.norm(image_to_tokens(self.sr(x)))
        return x

    def attend(self, q, k, v):
        """Fused attention of (B, heads, N, D) queries over (B, heads, M, D) keys and values."""
        drop = self.attn_drop.p if self.training else 0.0
        return F.scaled_dot_product_attention(q, k, v, dropout_p=drop, scale=self.scale)

    def forward(self, x, hw, need_weights=False):
        b, n, c = x.shape
        q = self.q(x).reshape(b, n, self.num_heads, self.head_dims).transpose(1, 2)
        kv = self.kv(self.reduce(x, hw))
        k, v = kv.reshape(b, -1, 2, self.num_heads, self.head_dims).permute(2, 0, 3, 1, 4)
        weights = None
        if need_weights or not self.fused:
            weights = attention_probs(q, k, self.scale).to(v.dtype)
            out = self.attn_drop(weights) @ v
        else:
            out = self.attend(q, k, v)
        out = self.proj_drop(self.proj(out.transpose(1, 2).reshape(b, n, c)))
        return out, weights


def attention_probs(q, k, scale):
    """Softmax attention probabilities, computed in fp32 (under autocast, sharp attention would
    overflow fp16 logits or lose its resolution in bf16 ones)."""
    with torch.autocast(q.device.type, enabled=False):
        return ((q.float() * scale) @ k.float().transpose(-2, -1)).softmax(-1)


class MixFFN(nn.Module):
    """fc1 -> (ReLU for linear SRA) -> 3x3 depth-wise conv -> act -> fc2, on tokens.

    Args:
        dims (int): token width.
        hidden_dims (int): hidden width (``dims * mlp_ratio``).
        act (str | nn.Module): activation after the depth-wise conv.
        drop (float): dropout after the activation and after fc2.
        linear (bool): the ReLU after fc1 that linear-SRA models have.
    """

    def __init__(self, dims, hidden_dims, act, drop, linear):
        super().__init__()
        self.fc1 = nn.Linear(dims, hidden_dims)
        self.relu = nn.ReLU() if linear else nn.Identity()
        self.dwconv = nn.Conv2d(hidden_dims, hidden_dims, 3, padding=1, groups=hidden_dims)
        self.act = build_activation(act)
        self.drop = nn.Dropout(drop)
        self.fc2 = nn.Linear(hidden_dims, dims)

    def forward(self, x, hw):
        x = self.relu(self.fc1(x))
        x = self.act(image_to_tokens(self.dwconv(tokens_to_image(x, hw))))
        return self.drop(self.fc2(self.drop(x)))


class PVTv2Block(nn.Module):
    """Pre-norm transformer block: x + attn(norm1(x)), then x + ffn(norm2(x)).

    Args:
        dims (int): token width.
        num_heads (int): attention heads.
        mlp_ratio (float): FFN hidden width over ``dims``.
        sr_ratio (int): spatial reduction ratio of the attention.
        drop_path (float): stochastic depth rate of both residual branches.
        opts (dict): the resolved ``PvtV2Config`` options (see :func:`resolve_arch`).
        attn_cls (type): the attention class (:class:`SpatialReductionAttention` or a checked
            speed-up with its parameters).
        ffn_cls (type): the FFN class (:class:`MixFFN` or a checked speed-up).
        **attn_kwargs: further arguments of ``attn_cls`` (e.g. ``fused``).
    """

    def __init__(
        self,
        dims,
        num_heads,
        mlp_ratio,
        sr_ratio,
        drop_path,
        opts,
        attn_cls=SpatialReductionAttention,
        ffn_cls=MixFFN,
        **attn_kwargs,
    ):
        super().__init__()
        eps = norm_eps(opts, 'block')
        self.norm1 = nn.LayerNorm(dims, eps=eps)
        self.attn = attn_cls(
            dims,
            num_heads,
            sr_ratio,
            opts['linear_attention'],
            opts['qkv_bias'],
            opts['attention_probs_dropout_prob'],
            opts['hidden_dropout_prob'],
            norm_eps(opts, 'reduction'),
            **attn_kwargs,
        )
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()
        self.norm2 = nn.LayerNorm(dims, eps=eps)
        self.mlp = ffn_cls(
            dims,
            int(dims * mlp_ratio),
            opts['hidden_act'],
            opts['hidden_dropout_prob'],
            opts['linear_attention'],
        )

    def forward(self, x, hw, need_weights=False):
        y, weights = self.attn(self.norm1(x), hw, need_weights)
        x = x + self.drop_path(y)
        x = x + self.drop_path(self.mlp(self.norm2(x), hw))
        return x, weights


class PVTv2Stage(nn.Module):
    """Patch embedding, the blocks of one stage, and the stage's closing LayerNorm."""

    def __init__(self, index, in_channels, drop_paths, opts, block_cfg):
        super().__init__()
        dims = opts['hidden_sizes'][index]
        self.patch_embed = OverlapPatchEmbed(
            in_channels,
            dims,
            opts['patch_sizes'][index],
            opts['strides'][index],
            norm_eps(opts, 'patch_embed'),
        )
        block_cls, block_kwargs = block_cfg
        self.blocks = nn.ModuleList(
            block_cls(
                dims,
                opts['num_attention_heads'][index],
                opts['mlp_ratios'][index],
                opts['sr_ratios'][index],
                dp,
                opts,
                **block_kwargs,
            )
            for dp in drop_paths
        )
        self.norm = nn.LayerNorm(dims, eps=norm_eps(opts, 'stage'))


@register_model()
class PVTv2(BaseModule):
    """PVTv2 backbone: four stages of overlapping patch embedding + SRA transformer blocks.

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
            results (``pvtv2_dense/models/backbones/fast/``): 'few_key' (a backward pass that
            recomputes the probabilities by matrix products, for few keys; no attention
            dropout) and 'auto' (few_key in fp32 CUDA training, sdpa otherwise). Defaults to
            'sdpa'.
        ffn_impl (str): how the Mix-FFN is computed: 'plain' (the definition), 'banded'
            (inference only: norm, FFN and residual a band of rows at a time while they stay
            in cache) or 'auto' (banded, and the linears as 1x1 convolutions, where that pays:
            CPU inference on large maps; plain otherwise). Defaults to 'plain'.
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
        arch: Union[str, dict] = 'b0',
        out_indices: Sequence[int] = (0, 1, 2, 3),
        frozen_stages: int = -1,
        norm_eval: bool = False,
        with_cp: bool = False,
        attn_impl: str = 'sdpa',
        ffn_impl: str = 'plain',
        channels_last_outputs: bool = False,
        init_cfg: Optional[dict] = None,
        **options,
    ):
        super().__init__(init_cfg=init_cfg)
        self.arch = resolve_arch(arch, **options)
        n = self.arch['num_encoder_blocks']
        if isinstance(out_indices, int):
            out_indices = [out_indices]
        self.out_indices = tuple(i % n if -n <= i < n else i for i in out_indices)
        bad = [i for i in self.out_indices if not 0 <= i < n]
        if bad or not self.out_indices:
            raise ConfigError(f'PVTv2: out_indices {tuple(out_indices)} must lie in [0, {n - 1}]')
        if not -1 <= frozen_stages <= n:
            raise ConfigError(f'PVTv2: frozen_stages={frozen_stages} must lie in [-1, {n}]')
        if attn_impl not in ATTN_IMPLS:
            raise ConfigError(f'PVTv2: attn_impl={attn_impl!r}; expected one of {ATTN_IMPLS}')
        if ffn_impl not in FFN_IMPLS:
            raise ConfigError(f'PVTv2: ffn_impl={ffn_impl!r}; expected one of {FFN_IMPLS}')
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self.with_cp = with_cp
        self.channels_last_outputs = channels_last_outputs
        self.num_features = [self.arch['hidden_sizes'][i] for i in self.out_indices]

        depths = self.arch['depths']
        rates = torch.linspace(0, self.arch['drop_path_rate'], sum(depths), device='cpu').tolist()
        block_cfg = self._block_cfg(attn_impl, ffn_impl)
        self.layers = nn.ModuleList()
        in_channels = self.arch['num_channels']
        for i, depth in enumerate(depths):
            start = sum(depths[:i])
            self.layers.append(
                PVTv2Stage(i, in_channels, rates[start : start + depth], self.arch, block_cfg)
            )
            in_channels = self.arch['hidden_sizes'][i]
        self._freeze_stages()

    def _block_cfg(self, attn_impl, ffn_impl):
        """The block class and its keyword arguments for the chosen implementations."""
        if attn_impl in ('sdpa', 'eager') and ffn_impl == 'plain':
            return PVTv2Block, dict(fused=attn_impl == 'sdpa')
        from .fast import fast_block_cfg

        return fast_block_cfg(attn_impl, ffn_impl, self.arch)

    def init_weights(self):
        if self.init_cfg is not None and self.init_cfg.get('type') == 'Pretrained':
            from ...checkpoint import load_pretrained

            load_pretrained(self, self.init_cfg['checkpoint'], prefix=self.init_cfg.get('prefix'))
            self._is_init = True
            return
        std = self.arch['initializer_range']
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

    def _run_block(self, block, x, hw, need_weights):
        if self.with_cp and self.training and x.requires_grad and not need_weights:
            return cp.checkpoint(block, x, hw, False, use_reentrant=False)
        return block(x, hw, need_weights)

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
            x, hw = stage.patch_embed(x)
            stage_weights = []
            for block in stage.blocks:
                x, weights = self._run_block(block, x, hw, return_attentions)
                stage_weights.append(weights)
            x = tokens_to_image(stage.norm(x), hw)
            attentions.append(tuple(stage_weights))
            if i in self.out_indices:
                outs.append(x if self.channels_last_outputs else x.contiguous())
            if i == max(self.out_indices) and not return_attentions:
                break
        outs = tuple(outs)
        return (outs, tuple(attentions)) if return_attentions else outs
