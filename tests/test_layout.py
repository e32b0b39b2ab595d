"""Token/image layout helpers: free views both ways, and token_linear's convolution route."""

import pytest
import torch
import torch.nn.functional as F

from pvtv2_dense.models.utils import image_to_tokens, layout, token_linear, tokens_to_image


def test_views_round_trip_without_copies():
    x = torch.randn(2, 6 * 5, 4)
    img = tokens_to_image(x, (6, 5))
    assert img.shape == (2, 4, 6, 5) and img.is_contiguous(memory_format=torch.channels_last)
    assert img.data_ptr() == x.data_ptr()
    back = image_to_tokens(img)
    assert back.data_ptr() == x.data_ptr() and torch.equal(back, x)


@pytest.mark.parametrize('grad, hw, route', [
    (False, (64, 64), True),  # inference on a large map: the 1x1 convolution
    (False, (32, 32), False),  # small map: the matmul
    (True, (64, 64), False),  # gradients: the matmul
])  # fmt: skip
def test_token_linear_routes_and_values(monkeypatch, grad, hw, route):
    calls = []
    real = F.conv2d
    monkeypatch.setattr(F, 'conv2d', lambda *a, **k: calls.append(1) or real(*a, **k))
    linear = torch.nn.Linear(8, 12)
    x = torch.randn(2, hw[0] * hw[1], 8)
    with torch.set_grad_enabled(grad):
        out = token_linear(x, hw, linear)
        ref = x @ linear.weight.t() + linear.bias
    assert len(calls) == int(route)
    assert out.shape == (2, hw[0] * hw[1], 12)
    torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-5)


def test_backbone_inference_matches_autograd_path(monkeypatch):
    from pvtv2_dense.models import PVTv2

    monkeypatch.setattr(layout, 'CONV_LINEAR_MIN_PIXELS', 64)
    torch.manual_seed(0)
    model = PVTv2(arch=dict(hidden_sizes=[8, 16, 24, 32], depths=[1, 1, 1, 1],
                            num_attention_heads=[1, 2, 3, 4])).eval()  # fmt: skip
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        fast = model(x)
    slow = model(x)
    for a, b in zip(fast, slow):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)
