"""Panoptic SegFormer's mask decoder: queries attend to the encoder's multi-scale features, and
each layer's attention maps, fused across heads and levels, are that layer's masks.

Li et al., "Panoptic SegFormer: Delving Deeper into Panoptic Segmentation with Transformers"
(CVPR 2022), section 3.4; behaviour as in github.com/zhiqi-li/Panoptic-SegFormer:

- the keys are the encoder's tokens of the first ``num_levels`` (3) levels, strides 8, 16, 32;
- a layer's mask: the scaled query-key logits of every head, one ``Linear(heads, heads) + ReLU``
  per level, the coarser levels resized (bilinear) to the first level's grid, concatenated, and
  ``Linear(heads * levels, 1) + ReLU``: one non-negative value per stride-8 location, read as a
  mask probability (Dice loss without a sigmoid; ``> 0.5`` at inference);
- post-norm layers: [self-attention, add & norm] (stuff decoder only), cross-attention, add &
  norm, FFN (ratio 4, GELU), add & norm; LayerNorm eps 1e-6; no dropout;
- after the last layer, one more cross-attention without values gives the final mask;
- the key padding mask is not used (the official code ignores it too).
"""

from torch import nn

from .. import implementations
from .fused_mask_attention import FusedMaskAttention  # noqa: F401  (registers mask_impl='fused')
from .mask_attention import MaskAttention  # noqa: F401  (part of this module's API)


class MaskDecoderLayer(nn.Module):
    """One post-norm mask-decoder layer: [self-attention], mask cross-attention, FFN.

    Args:
        embed_dims (int): width of queries and memory.
        num_heads (int): attention heads.
        num_levels (int): feature levels among the keys.
        self_attn (bool): start with self-attention among the queries (the stuff decoder).
        ffn_ratio (int): FFN hidden width over ``embed_dims``.
        mask_impl (str): 'plain' (:class:`MaskAttention`) or 'fused' (the same masks computed
            with less memory, :class:`.fused_mask_attention.FusedMaskAttention`); the entries of the
            implementation registry's ``mask_attention`` component.
    """

    def __init__(
        self, embed_dims, num_heads, num_levels=3, self_attn=False, ffn_ratio=4, mask_impl='plain'
    ):
        super().__init__()
        self.self_attn = None
        if self_attn:
            self.self_attn = nn.MultiheadAttention(embed_dims, num_heads, batch_first=True)
            self.norm_self = nn.LayerNorm(embed_dims, eps=1e-6)
        self.cross_attn = implementations.get('mask_attention', mask_impl).build(
            embed_dims, num_heads, num_levels
        )
        self.norm1 = nn.LayerNorm(embed_dims, eps=1e-6)
        self.ffn = nn.Sequential(
            nn.Linear(embed_dims, embed_dims * ffn_ratio),
            nn.GELU(),
            nn.Linear(embed_dims * ffn_ratio, embed_dims),
        )
        self.norm2 = nn.LayerNorm(embed_dims, eps=1e-6)

    def forward(self, query, memory, spatial_shapes, with_mask=True):
        if self.self_attn is not None:
            query = self.norm_self(query + self.self_attn(query, query, query)[0])
        out, mask = self.cross_attn(query, memory, memory, spatial_shapes, with_mask)
        query = self.norm1(query + out)
        query = self.norm2(query + self.ffn(query))
        return query, mask


class MaskDecoder(nn.Module):
    """A stack of mask-decoder layers and the final mask attention.

    Args:
        embed_dims (int): width of queries and memory.
        num_heads (int): attention heads.
        num_layers (int): decoder layers (4 for things, 6 for stuff in the paper).
        num_levels (int): feature levels among the keys (3: strides 8, 16, 32).
        self_attn (bool): layers start with self-attention (True for the stuff decoder).
        mask_impl (str): how every mask attention computes its mask: 'plain' or 'fused'
            (same weights and masks, less memory and time; see :class:`MaskDecoderLayer`).
    """

    def __init__(
        self,
        embed_dims=256,
        num_heads=8,
        num_layers=4,
        num_levels=3,
        self_attn=False,
        mask_impl='plain',
    ):
        super().__init__()
        self.num_levels = num_levels
        self.layers = nn.ModuleList(
            MaskDecoderLayer(embed_dims, num_heads, num_levels, self_attn, mask_impl=mask_impl)
            for _ in range(num_layers)
        )
        attn = implementations.get('mask_attention', mask_impl).build
        self.final_attn = attn(embed_dims, num_heads, num_levels, with_value=False)

    def init_weights(self):
        """Xavier-uniform for every matrix, as the official mask head."""
        for p in self.parameters():
            if p.dim() > 1:
                nn.init.xavier_uniform_(p)

    def forward(self, query, memory, spatial_shapes, query_pos=None, final_only=False):
        """Args:
            query (Tensor): (B, N, C) queries.
            memory (Tensor): (B, L, C) encoder tokens of the first ``num_levels`` levels.
            spatial_shapes (Tensor): (>= num_levels, 2) level heights and widths.
            query_pos (Tensor, optional): (B, N, C), added to the queries before every layer.
            final_only (bool): only the final mask (inference), not the layers' (the deep
                supervision of training); the queries are the same.

        Returns:
            tuple: ``masks``, a list of ``num_layers + 1`` tensors (B, N, H0 * W0) (each
            layer's, then the final one; only the final one with ``final_only``), and
            ``queries``, each layer's output (B, N, C).
        """
        shapes = spatial_shapes[: self.num_levels]
        masks, queries = [], []
        for layer in self.layers:
            q = query if query_pos is None else query + query_pos
            query, mask = layer(q, memory, shapes, with_mask=not final_only)
            if not final_only:
                masks.append(mask)
            queries.append(query)
        key = query if query_pos is None else query + query_pos
        masks.append(self.final_attn(key, memory, None, shapes)[1])
        return masks, queries
