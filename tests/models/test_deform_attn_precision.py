"""mmcv's multi-scale deformable attention (Deformable DETR's and Panoptic SegFormer's encoder and
location decoder) in reduced precision, and its CUDA kernel against its PyTorch path: where fp16
has broken Deformable DETR before (mmdet #6082, mmcv #2011, transformers #29011). The CUDA tests
run where a GPU is (``tools/analysis_tools/gpu_check.sh``)."""

import pytest
import torch
from mmcv.ops import MultiScaleDeformableAttention
from mmcv.ops.multi_scale_deform_attn import (
    MultiScaleDeformableAttnFunction,
    multi_scale_deformable_attn_pytorch,
)

SHAPES = torch.tensor([[12, 10], [6, 5], [3, 3], [2, 2]])
CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')


def _inputs(device='cpu', queries=50, dims=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    tokens = int(SHAPES.prod(1).sum())
    query = torch.randn(2, queries, dims, generator=g)
    value = torch.randn(2, tokens, dims, generator=g)
    ref = torch.rand(2, queries, len(SHAPES), 2, generator=g)
    return [t.to(device) for t in (query, value, ref)]


def _attention(device='cpu'):
    torch.manual_seed(0)
    attn = MultiScaleDeformableAttention(
        32, num_heads=4, num_levels=4, num_points=4, batch_first=True
    )
    attn.init_weights()
    with torch.no_grad():  # offsets and weights away from their symmetric initial values
        attn.sampling_offsets.weight.normal_(std=0.05)
        attn.attention_weights.weight.normal_(std=0.2)
    return attn.to(device)


def _run(attn, device, dtype=None):
    query, value, ref = _inputs(device)
    value.requires_grad_()
    shapes = SHAPES.to(device)
    start = torch.cat([shapes.new_zeros(1), shapes.prod(1).cumsum(0)[:-1]])
    with torch.autocast(torch.device(device).type, dtype=dtype, enabled=dtype is not None):
        out = attn(
            query, value=value, reference_points=ref, spatial_shapes=shapes, level_start_index=start
        )
    out.float().square().mean().backward()
    grads = [value.grad] + [p.grad for p in attn.parameters()]
    return out.float(), grads


def _assert_close(result, ref, rtol, atol):
    (out, grads), (ref_out, ref_grads) = result, ref
    assert torch.isfinite(out).all() and all(torch.isfinite(g).all() for g in grads)
    torch.testing.assert_close(out.cpu(), ref_out.cpu(), rtol=rtol, atol=atol)
    for a, b in zip(grads, ref_grads):
        scale = b.abs().max().item()
        torch.testing.assert_close(a.float().cpu(), b.cpu(), rtol=rtol, atol=atol * max(scale, 1))


def test_pytorch_path_under_cpu_bf16_autocast_is_finite_and_close_to_fp32():
    ref = _run(_attention(), 'cpu')
    _assert_close(_run(_attention(), 'cpu', torch.bfloat16), ref, rtol=0.05, atol=0.03)


@CUDA
def test_cuda_kernel_matches_the_pytorch_path_fp32():
    g = torch.Generator().manual_seed(0)
    b, heads, dims, queries, levels, points = 2, 4, 8, 30, len(SHAPES), 4
    value = torch.randn(b, int(SHAPES.prod(1).sum()), heads, dims, generator=g, dtype=torch.double)
    loc = torch.rand(b, queries, heads, levels, points, 2, generator=g, dtype=torch.double)
    w = torch.rand(b, queries, heads, levels, points, generator=g, dtype=torch.double)
    w = w / w.flatten(-2).sum(-1)[..., None, None]
    results = []
    for device in ('cuda', 'cpu'):
        args = [t.float().to(device).requires_grad_() for t in (value, loc, w)]
        shapes = SHAPES.to(device)
        if device == 'cuda':
            start = torch.cat([shapes.new_zeros(1), shapes.prod(1).cumsum(0)[:-1]])
            fn = MultiScaleDeformableAttnFunction.apply
            out = fn(args[0], shapes, start, args[1], args[2], 64)
        else:
            out = multi_scale_deformable_attn_pytorch(args[0], shapes, args[1], args[2])
        out.square().sum().backward()
        results.append((out.detach().cpu(), [a.grad.cpu() for a in args]))
    (out, grads), (ref, ref_grads) = results
    torch.testing.assert_close(out, ref, rtol=1e-4, atol=1e-5)
    for a, b in zip(grads, ref_grads):
        torch.testing.assert_close(a, b, rtol=1e-3, atol=1e-4)


@CUDA
@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16], ids=['fp16', 'bf16'])
def test_module_on_cuda_under_autocast_is_finite_and_close_to_fp32(dtype):
    ref = _run(_attention('cuda'), 'cuda')
    _assert_close(_run(_attention('cuda'), 'cuda', dtype), ref, rtol=0.05, atol=0.03)
