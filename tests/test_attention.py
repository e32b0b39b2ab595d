"""Few-key attention: SDPA's values, gradients recomputed chunk by chunk; the backbone's CUDA
routes (few-key backward in fp32 training, NCHW pooling for linear SRA) against its CPU ones."""

import copy

import pytest
import torch
import torch.nn.functional as F

from pvtv2_dense.models import PVTv2
from pvtv2_dense.models.utils import attention
from pvtv2_dense.models.utils.attention import few_key_attention

from .conftest import TINY_ARCH


def _qkv(b, h, n, m, d, dtype=torch.float32, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [
        (torch.randn(b, h, length, d, generator=g, dtype=dtype) * 2).requires_grad_()
        for length in (n, m, m)
    ]


@pytest.mark.parametrize('chunk_elements', [1, 3 * 5 * 2, 1 << 24])
def test_gradcheck(monkeypatch, chunk_elements):
    monkeypatch.setattr(attention, '_CHUNK_ELEMENTS', chunk_elements)
    q, k, v = _qkv(2, 1, 11, 5, 4, torch.double)
    assert torch.autograd.gradcheck(lambda *t: few_key_attention(*t, 0.3), (q, k, v))


@pytest.mark.parametrize('chunk_elements', [3 * 49, 1 << 24])
def test_matches_sdpa(monkeypatch, chunk_elements):
    monkeypatch.setattr(attention, '_CHUNK_ELEMENTS', chunk_elements)
    q, k, v = _qkv(2, 3, 300, 49, 16)
    grad = torch.randn(2, 3, 300, 16, generator=torch.Generator().manual_seed(1))
    results = []
    for fn in (few_key_attention, lambda *t: F.scaled_dot_product_attention(*t[:3], scale=t[3])):
        out = fn(q, k, v, 16**-0.5)
        grads = torch.autograd.grad(out, (q, k, v), grad)
        results.append((out, grads))
    (out, grads), (ref, ref_grads) = results
    torch.testing.assert_close(out, ref)
    for a, b in zip(grads, ref_grads):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
@pytest.mark.parametrize('linear', [False, True])
def test_cuda_routes_match_cpu(monkeypatch, linear):
    # cuDNN's convolutions default to TF32 (10-bit mantissas): compare in full fp32.
    monkeypatch.setattr(torch.backends.cudnn, 'allow_tf32', False)
    calls = []
    real = few_key_attention
    monkeypatch.setattr(
        'pvtv2_dense.models.backbones.pvt_v2.few_key_attention',
        lambda *a: calls.append(1) or real(*a),
    )
    torch.manual_seed(0)
    cpu = PVTv2(dict(TINY_ARCH, linear_attention=linear)).train()
    gpu = copy.deepcopy(cpu).cuda()
    x = torch.randn(2, 3, 64, 64)
    grads = []
    for model, inp in ((cpu, x), (gpu, x.cuda())):
        outs = model(inp)
        sum((o * o).mean() for o in outs).backward()
        grads.append([p.grad.cpu() for p in model.parameters()])
    assert len(calls) == 4  # one block per stage, on CUDA only
    for a, b in zip(*grads):
        torch.testing.assert_close(a, b, rtol=1e-3, atol=1e-5)
    with torch.no_grad():
        for a, b in zip(cpu.eval()(x), gpu.eval()(x.cuda())):
            torch.testing.assert_close(a, b.cpu(), rtol=1e-4, atol=1e-5)
    assert len(calls) == 4  # not without autograd
