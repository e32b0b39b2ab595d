"""PVTv2 backbone (Wang et al., "PVT v2: Improved Baselines with Pyramid Vision Transformer").

One implementation for every task: segmentation, depth and detection configs all name
``type='PVTv2'``. Parameter names follow ``layers.{stage}.{patch_embed|blocks.{j}|norm}``; the
checkpoint converters map the official, SegFormer, HF, timm and mmdet formats onto them.
"""

import copy
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

from ...registry import register_model
from ..utils.attention import few_key_attention
from ..utils.layout import image_to_tokens, token_linear, tokens_to_image

# Options shared by every preset; names and defaults are those of HF's PvtV2Config.
DEFAULT_OPTIONS = dict(
    num_channels=3,
    num_encoder_blocks=4,
    depths=[2, 2, 2, 2],
    sr_ratios=[8, 4, 2, 1],
    hidden_sizes=[32, 64, 160, 256],
    patch_sizes=[7, 3, 3, 3],
    strides=[4, 2, 2, 2],
    num_attention_heads=[1, 2, 5, 8],
    mlp_ratios=[8, 8, 4, 4],
    hidden_act='gelu',
    hidden_dropout_prob=0.0,
    attention_probs_dropout_prob=0.0,
    initializer_range=0.02,
    drop_path_rate=0.0,
    layer_norm_eps=1e-6,
    qkv_bias=True,
    linear_attention=False,
)

_WIDE = [64, 128, 320, 512]
ARCH_SETTINGS = {
    'b0': dict(hidden_sizes=[32, 64, 160, 256], depths=[2, 2, 2, 2]),
    'b1': dict(hidden_sizes=_WIDE, depths=[2, 2, 2, 2]),
    'b2': dict(hidden_sizes=_WIDE, depths=[3, 4, 6, 3]),
    'b2-li': dict(hidden_sizes=_WIDE, depths=[3, 4, 6, 3], linear_attention=True),
    'b3': dict(hidden_sizes=_WIDE, depths=[3, 4, 18, 3]),
    'b4': dict(hidden_sizes=_WIDE, depths=[3, 8, 27, 3]),
    'b5': dict(hidden_sizes=_WIDE, depths=[3, 6, 40, 3], mlp_ratios=[4, 4, 4, 4]),
}

_PER_STAGE = (
    'depths',
    'sr_ratios',
    'hidden_sizes',
    'patch_sizes',
    'strides',
    'num_attention_heads',
    'mlp_ratios',
)

# MixFFN.residual_in_bands: elements of one band's hidden map (2 MB in fp32), and the fewest
# elements of the whole hidden map for which bands pay (measured on SegFormer-b2 at 512x512:
# stages 1 and 2 gain, stage 3, already cache-sized, does not).
_BAND_ELEMENTS = 2**19
_BAND_MIN_ELEMENTS = 4 * _BAND_ELEMENTS

ACTIVATIONS = {
    'gelu': nn.GELU,
    # HF's "gelu_new" is the tanh approximation.
    'gelu_new': lambda: nn.GELU(approximate='tanh'),
    'relu': nn.ReLU,
    'selu': nn.SELU,
}


def resolve_arch(arch: Union[str, dict], **overrides) -> dict:
    """Expand an arch name or dict plus keyword overrides into a full, checked option dict."""
    if isinstance(arch, str):
        if arch not in ARCH_SETTINGS:
            raise ValueError(
                f'PVTv2: unknown arch {arch!r}; expected one of {sorted(ARCH_SETTINGS)} or a dict '
                f'of PvtV2Config options'
            )
        arch = ARCH_SETTINGS[arch]
    elif not isinstance(arch, dict):
        raise TypeError(f'PVTv2: arch must be a str or dict, got {type(arch).__name__}')
    opts = copy.deepcopy(DEFAULT_OPTIONS)
    for source in (arch, overrides):
        unknown = set(source) - set(DEFAULT_OPTIONS)
        if unknown:
            raise ValueError(
                f'PVTv2: unknown option(s) {sorted(unknown)}; expected PvtV2Config options '
                f'{sorted(DEFAULT_OPTIONS)}'
            )
        opts.update(copy.deepcopy(source))
    n = opts['num_encoder_blocks']
    for key in _PER_STAGE:
        if len(opts[key]) != n:
            raise ValueError(
                f'PVTv2: {key} has {len(opts[key])} entries ({opts[key]}) but '
                f'num_encoder_blocks is {n}'
            )
    for i, (c, h) in enumerate(zip(opts['hidden_sizes'], opts['num_attention_heads'])):
        if c % h:
            raise ValueError(
                f'PVTv2: hidden_sizes[{i}]={c} is not a multiple of num_attention_heads[{i}]={h}'
            )
    act = opts['hidden_act']
    if not callable(act) and act not in ACTIVATIONS:
        raise ValueError(f'PVTv2: hidden_act {act!r} not supported; expected {sorted(ACTIVATIONS)}')
    return opts


def build_activation(act) -> nn.Module:
    return ACTIVATIONS[act]() if isinstance(act, str) else act


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

    ``sr_ratio > 1``: a strided ``sr_ratio`` convolution reduces the map (SRA). ``linear=True``:
    average pooling to 7x7, a 1x1 convolution, LayerNorm and GELU (linear SRA, cost linear in the
    number of pixels). Keys and values share one projection (``kv``), as in the official code.
    """

    def __init__(
        self, dims, num_heads, sr_ratio, linear, qkv_bias, attn_drop, proj_drop, eps, attn_impl
    ):
        super().__init__()
        self.num_heads = num_heads
        self.head_dims = dims // num_heads
        self.scale = self.head_dims**-0.5
        self.attn_impl = attn_impl
        self.q = nn.Linear(dims, dims, bias=qkv_bias)
        self.kv = nn.Linear(dims, dims * 2, bias=qkv_bias)
        self.attn_drop = attn_drop
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

    def _reduce(self, x, hw):
        if self.linear:
            x = tokens_to_image(x, hw)
            if x.is_cuda:
                # CUDA's channels-last adaptive pooling parallelises over the 7x7 outputs alone:
                # 9.3 ms against 0.55 ms for a copy plus NCHW pooling (64 x 512 x 512, H200).
                x = x.contiguous()
            x = self.sr(self.pool(x))
            return self.act(self.norm(image_to_tokens(x)))
        if self.sr_ratio > 1:
            return self.norm(image_to_tokens(self.sr(tokens_to_image(x, hw))))
        return x

    def forward(self, x, hw, need_weights=False):
        b, n, c = x.shape
        q = self.q(x).reshape(b, n, self.num_heads, self.head_dims).transpose(1, 2)
        kv = self.kv(self._reduce(x, hw))
        k, v = kv.reshape(b, -1, 2, self.num_heads, self.head_dims).permute(2, 0, 3, 1, 4)
        drop = self.attn_drop if self.training else 0.0
        weights = None
        if need_weights or self.attn_impl == 'eager':
            # Logits and softmax in fp32: under autocast, sharp attention overflows fp16 logits
            # (NaN) or loses its resolution in bf16 ones.
            with torch.autocast(q.device.type, enabled=False):
                logits = (q.float() * self.scale) @ k.float().transpose(-2, -1)
            weights = logits.softmax(-1).to(v.dtype)
            out = F.dropout(weights, drop, self.training) @ v
        elif drop == 0.0 and q.is_cuda and q.dtype == torch.float32 and torch.is_grad_enabled():
            # fp32 training on CUDA: SDPA's memory-efficient backward is slow with few keys.
            out = few_key_attention(q, k, v, self.scale)
        else:
            out = F.scaled_dot_product_attention(q, k, v, dropout_p=drop)
        out = self.proj_drop(self.proj(out.transpose(1, 2).reshape(b, n, c)))
        return out, weights


class MixFFN(nn.Module):
    """fc1 -> (ReLU for linear SRA) -> 3x3 depth-wise conv -> act -> fc2, on tokens."""

    def __init__(self, dims, hidden_dims, act, drop, linear):
        super().__init__()
        self.fc1 = nn.Linear(dims, hidden_dims)
        self.relu = nn.ReLU() if linear else nn.Identity()
        self.dwconv = nn.Conv2d(hidden_dims, hidden_dims, 3, padding=1, groups=hidden_dims)
        self.act = build_activation(act)
        self.drop = nn.Dropout(drop)
        self.fc2 = nn.Linear(hidden_dims, dims)

    def forward(self, x, hw):
        x = self.relu(token_linear(x, hw, self.fc1))
        x = self._activate(image_to_tokens(self.dwconv(tokens_to_image(x, hw))))
        return self.drop(token_linear(self.drop(x), hw, self.fc2))

    def _activate(self, x):
        if isinstance(self.act, nn.GELU) and not torch.is_grad_enabled():
            # Nothing keeps the conv's fresh output for a backward pass: activate it in place
            # rather than allocate the block's largest tensor once more.
            return torch.ops.aten.gelu_(x, approximate=self.act.approximate)
        return self.act(x)

    def wants_bands(self, x):
        """Whether :meth:`residual_in_bands` should run: CPU inference (eval, no autograd, not
        compiling) on a map whose hidden activations would not stay in cache."""
        return (
            not self.training
            and not torch.is_grad_enabled()
            and x.device.type == 'cpu'
            and x.shape[0] * x.shape[1] * self.fc1.out_features >= _BAND_MIN_ELEMENTS
            and not torch.compiler.is_compiling()
        )

    def residual_in_bands(self, x, hw, norm):
        """``x + self(norm(x), hw)`` (eval mode, no autograd), a band of image rows at a time.

        The hidden map of the first stages (16 MB at 512x512) leaves the cache between fc1, the
        depth-wise conv, the activation and fc2 when each runs over the whole map; a band of
        about 2 MB goes through all of them (and the norm before and the residual after) while
        it is cached. Each band recomputes one row above and below for the 3x3 conv.
        """
        b, n, c = x.shape
        h, w = hw
        hidden = self.fc1.out_features
        rows = max(1, _BAND_ELEMENTS // (b * w * hidden))
        out = torch.empty_like(x)
        src, dst = x.view(b, h, w, c), out.view(b, h, w, c)
        for top in range(0, h, rows):
            bottom = min(top + rows, h)
            start, stop = max(top - 1, 0), min(bottom + 1, h)
            t = self.fc1(norm(src[:, start:stop]))
            if isinstance(self.relu, nn.ReLU):
                t = t.relu_()
            t = self.dwconv(t.permute(0, 3, 1, 2))[:, :, top - start : bottom - start]
            t = self._activate(t.permute(0, 2, 3, 1))
            torch.add(src[:, top:bottom], self.fc2(t), out=dst[:, top:bottom])
        return out


class PVTv2Block(nn.Module):
    """Pre-norm transformer block: x + attn(norm1(x)), then x + ffn(norm2(x))."""

    def __init__(self, dims, num_heads, mlp_ratio, sr_ratio, drop_path, opts, attn_impl):
        super().__init__()
        eps = opts['layer_norm_eps']
        self.norm1 = nn.LayerNorm(dims, eps=eps)
        self.attn = SpatialReductionAttention(
            dims,
            num_heads,
            sr_ratio,
            opts['linear_attention'],
            opts['qkv_bias'],
            opts['attention_probs_dropout_prob'],
            opts['hidden_dropout_prob'],
            eps,
            attn_impl,
        )
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()
        self.norm2 = nn.LayerNorm(dims, eps=eps)
        self.mlp = MixFFN(
            dims,
            int(dims * mlp_ratio),
            opts['hidden_act'],
            opts['hidden_dropout_prob'],
            opts['linear_attention'],
        )

    def forward(self, x, hw, need_weights=False):
        y, weights = self.attn(self.norm1(x), hw, need_weights)
        x = x + self.drop_path(y)
        if self.mlp.wants_bands(x):
            return self.mlp.residual_in_bands(x, hw, self.norm2), weights
        x = x + self.drop_path(self.mlp(self.norm2(x), hw))
        return x, weights


class PVTv2Stage(nn.Module):
    def __init__(self, index, in_channels, drop_paths, opts, attn_impl):
        super().__init__()
        dims = opts['hidden_sizes'][index]
        eps = opts['layer_norm_eps']
        self.sr_ratio = 1 if opts['linear_attention'] else opts['sr_ratios'][index]
        self.patch_embed = OverlapPatchEmbed(
            in_channels, dims, opts['patch_sizes'][index], opts['strides'][index], eps
        )
        self.blocks = nn.ModuleList(
            PVTv2Block(
                dims,
                opts['num_attention_heads'][index],
                opts['mlp_ratios'][index],
                opts['sr_ratios'][index],
                dp,
                opts,
                attn_impl,
            )
            for dp in drop_paths
        )
        self.norm = nn.LayerNorm(dims, eps=eps)


@register_model()
class PVTv2(BaseModule):
    """PVTv2 backbone: four stages of overlapping patch embedding + SRA transformer blocks.

    Every option of HF's ``PvtV2Config`` is accepted as a keyword and overrides the preset, e.g.
    ``PVTv2(arch='b2', drop_path_rate=0.1)``.

    Output shapes: for an input of H x W, stage ``i`` gives a map of ``hidden_sizes[i]`` channels
    and size ``H_i x W_i`` with ``H_0 = floor((H + 2 * (p_0 // 2) - p_0) / s_0) + 1`` and the
    same rule for each later stage on the previous size (``p``: patch_sizes, ``s``: strides).
    With the default 7/4 then 3/2 embeddings this is ``ceil(H / 4)``, then halved with rounding
    up: a 97 x 131 input gives 25x33, 13x17, 7x9 and 4x5. Any size works as long as every
    stage with a strided reduction (``sr_ratios[i] > 1``, not linear SRA) keeps at least
    ``sr_ratios[i]`` rows and columns (e.g. 32 x 32 pixels for the default presets).

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
        attn_impl (str): 'sdpa' (``scaled_dot_product_attention``, fused) or 'eager' (explicit
            softmax; what attention maps are computed with). Defaults to 'sdpa'.
        channels_last_outputs (bool): return each map as a channels-last view of the stage's
            tokens instead of a contiguous NCHW copy; for heads that compute channels-last
            (``AllMLPHead``, ``GLPNHead``), which spares a copy each way. Defaults to False.
        init_cfg (dict, optional): ``dict(type='Pretrained', checkpoint=PATH)`` loads a checkpoint
            in any supported format (official PVT/SegFormer, HF, timm, mmdet, ours), found by its
            keys. Defaults to None.
        **options: any ``PvtV2Config`` option (num_channels, depths, hidden_sizes,
            drop_path_rate, linear_attention, ...), overriding the preset.
    """

    def __init__(
        self,
        arch: Union[str, dict] = 'b0',
        out_indices: Sequence[int] = (0, 1, 2, 3),
        frozen_stages: int = -1,
        norm_eval: bool = False,
        with_cp: bool = False,
        attn_impl: str = 'sdpa',
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
            raise ValueError(f'PVTv2: out_indices {tuple(out_indices)} must lie in [0, {n - 1}]')
        if not -1 <= frozen_stages <= n:
            raise ValueError(f'PVTv2: frozen_stages={frozen_stages} must lie in [-1, {n}]')
        if attn_impl not in ('sdpa', 'eager'):
            raise ValueError(f"PVTv2: attn_impl={attn_impl!r}; expected 'sdpa' or 'eager'")
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self.with_cp = with_cp
        self.channels_last_outputs = channels_last_outputs
        self.num_features = [self.arch['hidden_sizes'][i] for i in self.out_indices]

        depths = self.arch['depths']
        rates = torch.linspace(0, self.arch['drop_path_rate'], sum(depths), device='cpu').tolist()
        self.layers = nn.ModuleList()
        in_channels = self.arch['num_channels']
        for i, depth in enumerate(depths):
            start = sum(depths[:i])
            self.layers.append(
                PVTv2Stage(i, in_channels, rates[start : start + depth], self.arch, attn_impl)
            )
            in_channels = self.arch['hidden_sizes'][i]
        self._freeze_stages()

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
            if stage.sr_ratio > 1 and min(hw) < stage.sr_ratio:
                raise ValueError(
                    f'PVTv2: input too small: stage {i} has a {hw[0]}x{hw[1]} map, smaller than '
                    f'its spatial reduction ratio {stage.sr_ratio}'
                )
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
