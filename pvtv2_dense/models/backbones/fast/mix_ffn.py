"""Mix-FFN for CPU inference: the same results as :class:`MixFFN`, on large maps faster.

Without autograd on a CPU, the FFN's linears over a large map run as 1x1 convolutions of the
channels-last image view (oneDNN) rather than as matrix products (MKL): the same product, faster
on the wide, shallow products of the first stages. :class:`FastMixFFN` replaces the seam
:meth:`MixFFN.project` only, so the FFN's forward (and any change to it) is the plain one.
``docs/benchmarks.md`` has the measurements that set the threshold below.
"""

import torch
import torch.nn.functional as F
from torch import nn

from ...implementations import check_same
from ...utils.layout import image_to_tokens, tokens_to_image
from ..pvt_v2_layers import MixFFN

# Maps of at least this many pixels take token_linear's convolution route.
CONV_LINEAR_MIN_PIXELS = 4096


def cpu_inference(x: torch.Tensor) -> bool:
    """Whether ``x`` is computed on the CPU without autograd and outside ``torch.compile``."""
    return (
        not torch.is_grad_enabled() and x.device.type == 'cpu' and not torch.compiler.is_compiling()
    )


def token_linear(x: torch.Tensor, hw: tuple[int, int], linear: nn.Linear) -> torch.Tensor:
    """``linear(x)`` on (B, H*W, C) tokens as a 1x1 convolution of the channels-last image view
    (the same product; oneDNN's convolution beats MKL's matmul on the wide, shallow products of
    the first stages). Maps smaller than ``CONV_LINEAR_MIN_PIXELS`` take ``linear`` itself."""
    if hw[0] * hw[1] < CONV_LINEAR_MIN_PIXELS:
        return linear(x)
    weight = linear.weight[:, :, None, None]
    return image_to_tokens(F.conv2d(tokens_to_image(x, hw), weight, linear.bias))


class FastMixFFN(MixFFN):
    """:class:`MixFFN` whose linears take :func:`token_linear` in CPU inference; the same
    parameters and results, the plain forward.

    Args:
        *args: those of :class:`MixFFN`.
    """

    def project(self, linear, x, hw):
        if type(linear) is nn.Linear and cpu_inference(x):
            return token_linear(x, hw, linear)
        return super().project(linear, x, hw)


def self_check():
    """:class:`FastMixFFN` against :class:`MixFFN` on a map large enough for
    :func:`token_linear`'s convolution route, in CPU inference, with autograd and in training
    (see ``pvtv2_dense.models.implementations.check_same``)."""
    torch.manual_seed(0)
    hw = (64, CONV_LINEAR_MIN_PIXELS // 64)
    plain, fast = MixFFN(4, 8, drop=0.1), FastMixFFN(4, 8, drop=0.1)
    check_same(plain, fast, [torch.randn(1, hw[0] * hw[1], 4), hw])
