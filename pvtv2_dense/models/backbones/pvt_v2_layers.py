"""The layers of PVTv2, plainly written: patch embedding, spatial-reduction attention, Mix-FFN,
the transformer block and the stage. ``PVTv2`` (``pvt_v2.py``) assembles them.

Each class has one ``forward``, the published definition. The speed-ups in ``fast/`` subclass
them and replace only the narrow methods these forwards call (the seams): the attention's
:meth:`~SpatialReductionAttention.reduce` and :meth:`~SpatialReductionAttention.attend`, the
FFN's :meth:`~MixFFN.project` and the block's :meth:`~PVTv2Block.ffn_residual`. An edit to a
``forward`` here therefore reaches every implementation; an edit to a seam reaches the plain
implementations (``attn_impl='sdpa'`` or ``'eager'``, ``ffn_impl='plain'``) only.
"""

import torch
import torch.nn.functional as F
from mmcv.cnn.bricks import DropPath
from torch import nn

from ..utils.layout import image_to_tokens, tokens_to_image
from .pvt_v2_options import build_activation, norm_eps


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
        """The tokens keys and values are computed from: (B, M, C) (a seam, see the module)."""
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
        mlp_ratio (float): FFN hidden width over ``dims``.
        sr_ratio (int): spatial reduction ratio of the attention.
        drop_path (float): stochastic depth rate of both residual branches.
        opts (dict): the resolved ``PvtV2Config`` options (see :func:`resolve_arch`).
        attn_cls (callable): builds the attention from the arguments of
            :class:`SpatialReductionAttention` (that class, or a checked speed-up with its
            options bound).
        ffn_cls (callable): builds the FFN from the arguments of :class:`MixFFN`.
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
        return self.ffn_residual(x, hw), weights

    def ffn_residual(self, x, hw):
        """The FFN branch and its residual, ``x + drop_path(mlp(norm2(x)))`` (a seam: ``fast/``
        may compute it a band of image rows at a time)."""
        return x + self.drop_path(self.mlp(self.norm2(x), hw))


class PVTv2Stage(nn.Module):
    """Patch embedding, the blocks of one stage, and the stage's closing LayerNorm.

    Args:
        index (int): the stage, 0-based.
        in_channels (int): channels of the stage's input map.
        drop_paths (Sequence[float]): stochastic depth rate of each block.
        opts (dict): the resolved ``PvtV2Config`` options.
        block_cls (callable): builds a block from the arguments of :class:`PVTv2Block`.
    """

    def __init__(self, index, in_channels, drop_paths, opts, block_cls=PVTv2Block):
        super().__init__()
        dims = opts['hidden_sizes'][index]
        self.patch_embed = OverlapPatchEmbed(
            in_channels,
            dims,
            opts['patch_sizes'][index],
            opts['strides'][index],
            norm_eps(opts, 'patch_embed'),
        )
        self.blocks = nn.ModuleList(
            block_cls(
                dims,
                opts['num_attention_heads'][index],
                opts['mlp_ratios'][index],
                opts['sr_ratios'][index],
                dp,
                opts,
            )
            for dp in drop_paths
        )
        self.norm = nn.LayerNorm(dims, eps=norm_eps(opts, 'stage'))
