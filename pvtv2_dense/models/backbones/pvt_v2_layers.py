"""The layers of PVTv2, plainly written: patch embedding, spatial-reduction attention, Mix-FFN,
the transformer block and the stage. ``PVTv2`` (``pvt_v2.py``) assembles them from a
:class:`~pvtv2_dense.arch.PVTv2Spec`; each layer takes typed keyword arguments (no options dict).

Each class has one ``forward``, the published definition. The speed-ups in ``fast/`` subclass
them and replace only the narrow methods these forwards call (the seams, each class's ``SEAMS``):
the attention's :meth:`~SpatialReductionAttention.attend` and
:meth:`~SpatialReductionAttention.pool_map`, the FFN's :meth:`~MixFFN.project` and the block's
:meth:`~PVTv2Block.ffn_residual`. An edit to a ``forward`` here therefore reaches every
implementation; an edit to a seam reaches the plain implementations (``attn_impl='sdpa'`` or
``'eager'``, ``ffn_impl='plain'``) only.
"""

from collections.abc import Callable

import torch
import torch.nn.functional as F
import torch.utils.checkpoint as cp
from mmcv.cnn.bricks import DropPath
from torch import nn

from ...arch import StageSpec
from ..utils.layout import image_to_tokens, tokens_to_image

# hidden_act -> the activation module (the names are pvtv2_dense.arch.ACTIVATION_NAMES).
ACTIVATIONS = {
    'gelu': nn.GELU,
    # HF's "gelu_new" is the tanh approximation.
    'gelu_new': lambda: nn.GELU(approximate='tanh'),
    'relu': nn.ReLU,
    'selu': nn.SELU,
}


def build_activation(act: str | Callable) -> nn.Module:
    """The activation named ``act``; a module given instead is used as it is."""
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

    ``sr_ratio > 1``: a strided ``sr_ratio`` convolution reduces the map (SRA); a map with fewer
    than ``sr_ratio`` rows or columns (which the official code cannot reduce) is reduced as its
    copy zero-padded at the bottom and right to ``sr_ratio`` would be. ``linear=True``: average
    pooling to 7x7, a 1x1 convolution, LayerNorm and GELU (linear SRA, cost linear in the number
    of pixels). Keys and values share one projection (``kv``), as in the official code.

    Args:
        dims (int): token width.
        num_heads (int): attention heads.
        sr_ratio (int): spatial reduction of the keys and values (SRA). Defaults to 1.
        linear (bool): linear SRA instead. Defaults to False.
        qkv_bias (bool): biases in ``q`` and ``kv``. Defaults to True.
        attn_drop (float): dropout on the attention probabilities. Defaults to 0.
        proj_drop (float): dropout after the output projection. Defaults to 0.
        eps (float): eps of the reduction's LayerNorm. Defaults to 1e-5.
        fused (bool): attention through ``scaled_dot_product_attention``; False computes the
            softmax explicitly (what attention maps are returned from). Defaults to True.
    """

    # The methods a speed-up may replace (tests/models/test_implementations.py holds them to it).
    SEAMS = ('attend', 'pool_map')

    def __init__(
        self,
        dims: int,
        num_heads: int,
        *,
        sr_ratio: int = 1,
        linear: bool = False,
        qkv_bias: bool = True,
        attn_drop: float = 0.0,
        proj_drop: float = 0.0,
        eps: float = 1e-5,
        fused: bool = True,
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
            x = self.sr(self.pool_map(tokens_to_image(x, hw)))
            return self.act(self.norm(image_to_tokens(x)))
        if self.sr_ratio > 1:
            x = tokens_to_image(x, hw)
            pad_h, pad_w = max(self.sr_ratio - hw[0], 0), max(self.sr_ratio - hw[1], 0)
            if pad_h or pad_w:
                x = F.pad(x, (0, pad_w, 0, pad_h))
            return self.norm(image_to_tokens(self.sr(x)))
        return x

    def pool_map(self, x):
        """Linear SRA's 7x7 average pooling of the (B, C, H, W) map (a seam, see the module)."""
        return self.pool(x)

    def attend(self, q, k, v):
        """Fused attention of (B, heads, N, D) queries over (B, heads, M, D) keys and values (a
        seam, see the module)."""
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
        act (str | nn.Module): activation after the depth-wise conv. Defaults to 'gelu'.
        drop (float): dropout after the activation and after fc2. Defaults to 0.
        linear (bool): the ReLU after fc1 that linear-SRA models have. Defaults to False.
    """

    SEAMS = ('project',)

    def __init__(
        self,
        dims: int,
        hidden_dims: int,
        *,
        act: str | Callable = 'gelu',
        drop: float = 0.0,
        linear: bool = False,
    ):
        super().__init__()
        self.fc1 = nn.Linear(dims, hidden_dims)
        self.relu = nn.ReLU() if linear else nn.Identity()
        self.dwconv = nn.Conv2d(hidden_dims, hidden_dims, 3, padding=1, groups=hidden_dims)
        self.act = build_activation(act)
        self.drop = nn.Dropout(drop)
        self.fc2 = nn.Linear(hidden_dims, dims)

    def forward(self, x, hw):
        x = self.relu(self.project(self.fc1, x, hw))
        x = self.act(image_to_tokens(self.dwconv(tokens_to_image(x, hw))))
        return self.drop(self.project(self.fc2, self.drop(x), hw))

    def project(self, linear, x, hw):
        """``linear`` over the channels of (B, H*W, C) tokens (a seam: ``fast/`` may compute it
        on the H x W image view)."""
        return linear(x)


class PVTv2Block(nn.Module):
    """Pre-norm transformer block: x + attn(norm1(x)), then x + ffn(norm2(x)).

    Args:
        dims (int): token width.
        num_heads (int): attention heads.
        mlp_ratio (float): FFN hidden width over ``dims``. Defaults to 4.
        sr_ratio (int): spatial reduction ratio of the attention. Defaults to 1.
        linear (bool): linear SRA (and the FFN's ReLU). Defaults to False.
        qkv_bias (bool): biases in the attention's ``q`` and ``kv``. Defaults to True.
        attn_drop (float): dropout on the attention probabilities. Defaults to 0.
        proj_drop (float): dropout after projections and in the FFN. Defaults to 0.
        drop_path (float): stochastic depth rate of both residual branches. Defaults to 0.
        act (str | nn.Module): the FFN's activation. Defaults to 'gelu'.
        eps (float): eps of the two LayerNorms. Defaults to 1e-6.
        reduction_eps (float): eps of the attention's reduction LayerNorm. Defaults to 1e-5.
        attn_cls (callable): builds the attention from the keywords of
            :class:`SpatialReductionAttention` (that class, or a checked speed-up with its
            options bound).
        ffn_cls (callable): builds the FFN from the keywords of :class:`MixFFN`.
    """

    SEAMS = ('ffn_residual',)

    def __init__(
        self,
        dims: int,
        num_heads: int,
        *,
        mlp_ratio: float = 4.0,
        sr_ratio: int = 1,
        linear: bool = False,
        qkv_bias: bool = True,
        attn_drop: float = 0.0,
        proj_drop: float = 0.0,
        drop_path: float = 0.0,
        act: str | Callable = 'gelu',
        eps: float = 1e-6,
        reduction_eps: float = 1e-5,
        attn_cls: Callable = SpatialReductionAttention,
        ffn_cls: Callable = MixFFN,
    ):
        super().__init__()
        self.norm1 = nn.LayerNorm(dims, eps=eps)
        self.attn = attn_cls(
            dims,
            num_heads,
            sr_ratio=sr_ratio,
            linear=linear,
            qkv_bias=qkv_bias,
            attn_drop=attn_drop,
            proj_drop=proj_drop,
            eps=reduction_eps,
        )
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()
        self.norm2 = nn.LayerNorm(dims, eps=eps)
        self.mlp = ffn_cls(dims, int(dims * mlp_ratio), act=act, drop=proj_drop, linear=linear)

    def forward(self, x, hw, need_weights=False):
        y, weights = self.attn(self.norm1(x), hw, need_weights)
        x = x + self.drop_path(y)
        return self.ffn_residual(x, hw), weights

    def ffn_residual(self, x, hw):
        """The FFN branch and its residual, ``x + drop_path(mlp(norm2(x)))`` (a seam: ``fast/``
        may compute it a band of image rows at a time)."""
        return x + self.drop_path(self.mlp(self.norm2(x), hw))


class PVTv2Stage(nn.Module):
    """Patch embedding, the blocks of one stage, and the stage's closing LayerNorm.

    Args:
        spec (StageSpec): the stage (``PVTv2Spec.stages()``).
        block_cls (callable): builds a block from the keywords of :class:`PVTv2Block`.
        with_cp (bool): gradient checkpointing per block in training. Defaults to False.
    """

    def __init__(self, spec: StageSpec, block_cls: Callable = PVTv2Block, with_cp: bool = False):
        super().__init__()
        self.with_cp = with_cp
        self.patch_embed = OverlapPatchEmbed(
            spec.in_channels,
            spec.dims,
            spec.patch_size,
            spec.stride,
            spec.eps('patch_embed'),
        )
        self.blocks = nn.ModuleList(
            block_cls(
                spec.dims,
                spec.num_heads,
                mlp_ratio=spec.mlp_ratio,
                sr_ratio=spec.sr_ratio,
                linear=spec.linear,
                qkv_bias=spec.qkv_bias,
                attn_drop=spec.attn_drop,
                proj_drop=spec.proj_drop,
                drop_path=rate,
                act=spec.act,
                eps=spec.eps('block'),
                reduction_eps=spec.eps('reduction'),
            )
            for rate in spec.drop_path_rates
        )
        self.norm = nn.LayerNorm(spec.dims, eps=spec.eps('stage'))

    def _run_block(self, block, x, hw, need_weights):
        if self.with_cp and self.training and x.requires_grad and not need_weights:
            return cp.checkpoint(block, x, hw, False, use_reentrant=False)
        return block(x, hw, need_weights)

    def forward(self, x, need_weights=False):
        """Embed, run the blocks and normalise.

        Args:
            x (Tensor): the stage's input map, (B, C_in, H, W).
            need_weights (bool): also return each block's attention probabilities.

        Returns:
            tuple: the (B, C, H_i, W_i) output map, channels-last in memory, and a tuple of the
            blocks' attention maps (each None without ``need_weights``).
        """
        x, hw = self.patch_embed(x)
        weights = []
        for block in self.blocks:
            x, w = self._run_block(block, x, hw, need_weights)
            weights.append(w)
        return tokens_to_image(self.norm(x), hw), tuple(weights)
