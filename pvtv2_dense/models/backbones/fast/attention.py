"""Spatial-reduction attention, faster where PVTv2's shapes defeat the generic kernels.

PVTv2 attends from every pixel of a stage (16384 queries at 512x512 in the first stage) to a map
reduced by the SRA ratio (256 keys at 512x512; 49 with linear SRA). In fp32 on CUDA,
``scaled_dot_product_attention`` runs the memory-efficient kernels, whose backward spreads its
work over blocks of keys, of which a few hundred keys make only a handful
(``docs/benchmarks.md`` has the profile). :func:`few_key_attention` recomputes the attention
probabilities in its backward with matrix products, a chunk of queries at a time: it saves what
SDPA saves (q, k, v and the output) and never holds more than one chunk of probabilities.
"""

import torch
import torch.nn.functional as F

from ....errors import ConfigError
from ...implementations import check_same
from ..pvt_v2_layers import SpatialReductionAttention

# Probabilities recomputed per backward chunk (elements): 64 MB in fp32.
_CHUNK_ELEMENTS = 1 << 24


class _FewKeyAttention(torch.autograd.Function):
    @staticmethod
    def forward(ctx, q, k, v, scale):
        out = F.scaled_dot_product_attention(q, k, v, scale=scale)
        ctx.save_for_backward(q, k, v, out)
        ctx.scale = scale
        return out

    @staticmethod
    def backward(ctx, grad_out):
        q, k, v, out = ctx.saved_tensors
        scale = ctx.scale
        b, h, n, _ = q.shape
        rows = max(1, _CHUNK_ELEMENTS // (b * h * k.shape[-2]))
        grad_q = torch.empty_like(q)
        grad_k = torch.zeros_like(k)
        grad_v = torch.zeros_like(v)
        for start in range(0, n, rows):
            chunk = slice(start, start + rows)
            q_c, g_c = q[..., chunk, :], grad_out[..., chunk, :]
            probs = torch.softmax((q_c @ k.transpose(-2, -1)).mul_(scale), dim=-1)
            grad_v += probs.transpose(-2, -1) @ g_c
            # Softmax backward: p * (dL/dp - sum_j dL/dp_j p_j), the sum being <dO, O> per row.
            row_dot = (g_c * out[..., chunk, :]).sum(-1, keepdim=True)
            grad_logits = (g_c @ v.transpose(-2, -1)).sub_(row_dot).mul_(probs).mul_(scale)
            grad_q[..., chunk, :] = grad_logits @ k
            grad_k += grad_logits.transpose(-2, -1) @ q_c
        return grad_q, grad_k, grad_v, None


def few_key_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, scale: float
) -> torch.Tensor:
    """``scaled_dot_product_attention(q, k, v, scale=scale)`` (no mask, no dropout) whose
    backward recomputes the probabilities with matrix products (see the module docstring).

    Args:
        q (Tensor): queries, (B, heads, N, D).
        k (Tensor): keys, (B, heads, M, D).
        v (Tensor): values, (B, heads, M, D).
        scale (float): factor of the logits, usually ``D ** -0.5``.
    """
    return _FewKeyAttention.apply(q, k, v, scale)


class FastSpatialReductionAttention(SpatialReductionAttention):
    """:class:`SpatialReductionAttention` with the same parameters and results; it replaces the
    seams :meth:`attend` and :meth:`pool_map` only (the forward and the reduction are the plain
    ones).

    ``route='few_key'`` always takes :func:`few_key_attention` (so it refuses attention dropout);
    ``route='auto'`` takes it in fp32 CUDA training, where it pays, and SDPA elsewhere. On CUDA,
    linear SRA pools a contiguous copy of its channels-last map: CUDA's channels-last adaptive
    pooling parallelises over the 7x7 outputs alone.

    Args:
        *args: those of :class:`SpatialReductionAttention`.
        route (str): 'few_key' or 'auto'.
        **kwargs: those of :class:`SpatialReductionAttention` (``fused`` stays True).

    Raises:
        ConfigError: ``route='few_key'`` with attention dropout.
    """

    def __init__(self, *args, route='auto', **kwargs):
        super().__init__(*args, **kwargs)
        if route not in ('few_key', 'auto'):
            raise ConfigError(
                f"FastSpatialReductionAttention: route={route!r}; expected 'few_key' or 'auto'"
            )
        if route == 'few_key' and self.attn_drop.p > 0:
            raise ConfigError(
                "PVTv2: attn_impl='few_key' has no attention dropout, but "
                f"attention_probs_dropout_prob={self.attn_drop.p}; use attn_impl='auto' or 'sdpa'"
            )
        self.route = route

    def pool_map(self, x):
        return super().pool_map(x.contiguous() if x.is_cuda else x)

    def attend(self, q, k, v):
        if self.route == 'few_key' or (
            q.is_cuda
            and q.dtype == torch.float32
            and torch.is_grad_enabled()
            and not (self.training and self.attn_drop.p > 0)
        ):
            return few_key_attention(q, k, v, self.scale)
        return super().attend(q, k, v)


def self_check(route):
    """``FastSpatialReductionAttention(route=route)`` against the plain attention (SRA and
    linear SRA) on a small map, with autograd and in training (see
    ``pvtv2_dense.models.implementations.check_same``)."""
    for linear in (False, True):
        torch.manual_seed(0)
        options = dict(sr_ratio=2, linear=linear)
        plain = SpatialReductionAttention(8, 2, **options)
        fast = FastSpatialReductionAttention(8, 2, route=route, **options)
        check_same(plain, fast, [torch.randn(2, 5 * 7, 8), (5, 7)])
