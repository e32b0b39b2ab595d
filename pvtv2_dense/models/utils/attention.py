"""Attention of many queries over few keys, with a backward pass suited to that shape.

PVTv2 attends from every pixel of a stage (16384 queries at 512x512 in the first stage) to a map
reduced by the SRA ratio (256 keys at 512x512; 49 with linear SRA). In fp32 on CUDA,
``scaled_dot_product_attention`` runs the memory-efficient kernels, whose backward spreads its
work over blocks of keys: with a few hundred keys it has a handful of blocks to run, and it took
9.2 of the 17.9 ms of GPU time of a SegFormer-b0 training step on an H200. The backward here
recomputes the attention probabilities with matrix products, a chunk of queries at a time, so it
saves what SDPA saves (q, k, v and the output) and never holds more than one chunk of
probabilities.
"""

import torch
import torch.nn.functional as F

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
