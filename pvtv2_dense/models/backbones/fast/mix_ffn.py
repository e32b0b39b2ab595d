"""Mix-FFN for CPU inference: the same results as :class:`MixFFN`, with less memory traffic.

Without autograd the FFN's intermediate maps need not be kept, and on a CPU the first stages'
hidden maps (several MB each) leave the cache between fc1, the depth-wise conv, the activation
and fc2 when each runs over the whole map. Three measures, each exact:

- a band of image rows at a time runs through the block's norm, the whole FFN and the residual
  while it is cached (:meth:`FastMixFFN.residual_in_bands`); each band recomputes the row above
  and below it for the 3x3 conv;
- on large maps the linears run as 1x1 convolutions of the channels-last image view (oneDNN)
  rather than as matrix products (:func:`token_linear`);
- the activations run in place.

``docs/benchmarks.md`` has the measurements that set the thresholds below.
"""

import torch
import torch.nn.functional as F
from torch import nn

from ...utils.layout import image_to_tokens, tokens_to_image
from ..pvt_v2 import MixFFN

# Elements of one band's hidden map (2 MB in fp32), and the fewest elements of the whole hidden
# map for which bands pay (at 512x512: the first two stages).
BAND_ELEMENTS = 2**19
BAND_MIN_ELEMENTS = 4 * BAND_ELEMENTS
# Maps of at least this many pixels take token_linear's convolution route.
CONV_LINEAR_MIN_PIXELS = 4096


def token_linear(x: torch.Tensor, hw: tuple[int, int], linear: nn.Linear) -> torch.Tensor:
    """``linear(x)`` on (B, H*W, C) tokens as a 1x1 convolution of the channels-last image view
    (the same product; oneDNN's convolution beats MKL's matmul on the wide, shallow products of
    the first stages). Maps smaller than ``CONV_LINEAR_MIN_PIXELS`` take ``linear`` itself."""
    if hw[0] * hw[1] < CONV_LINEAR_MIN_PIXELS:
        return linear(x)
    weight = linear.weight[:, :, None, None]
    return image_to_tokens(F.conv2d(tokens_to_image(x, hw), weight, linear.bias))


class FastMixFFN(MixFFN):
    """:class:`MixFFN` with the CPU-inference measures above; the same parameters and results.

    ``mode='auto'`` applies them in CPU inference (no autograd, not compiling) and runs the plain
    definition otherwise; bands only where the hidden map has at least ``BAND_MIN_ELEMENTS``.
    ``mode='banded'`` always runs in bands and refuses training and autograd (which need the
    intermediate maps it never keeps).

    Args:
        *args: those of :class:`MixFFN`.
        mode (str): 'auto' or 'banded'.
    """

    def __init__(self, *args, mode='auto'):
        super().__init__(*args)
        if mode not in ('auto', 'banded'):
            raise ValueError(f"mode={mode!r}; expected 'auto' or 'banded'")
        self.mode = mode

    def _cpu_inference(self, x):
        return (
            not torch.is_grad_enabled()
            and x.device.type == 'cpu'
            and not torch.compiler.is_compiling()
        )

    def runs_in_bands(self, x):
        """Whether :meth:`residual_in_bands` computes this block's FFN residual for ``x``."""
        if self.mode == 'banded':
            if self.training or torch.is_grad_enabled():
                raise RuntimeError(
                    "ffn_impl='banded' runs inference only (eval mode, no autograd); "
                    "use ffn_impl='auto' to train"
                )
            return True
        return (
            not self.training
            and self._cpu_inference(x)
            and x.shape[0] * x.shape[1] * self.fc1.out_features >= BAND_MIN_ELEMENTS
        )

    def _activate_(self, x):
        """The activation, in place when it is a GELU (no autograd keeps its input)."""
        if isinstance(self.act, nn.GELU):
            return torch.ops.aten.gelu_(x, approximate=self.act.approximate)
        return self.act(x)

    def forward(self, x, hw):
        if not self._cpu_inference(x):
            return super().forward(x, hw)
        x = token_linear(x, hw, self.fc1)
        if isinstance(self.relu, nn.ReLU):
            x = x.relu_()
        x = self._activate_(image_to_tokens(self.dwconv(tokens_to_image(x, hw))))
        return self.drop(token_linear(self.drop(x), hw, self.fc2))

    def residual_in_bands(self, x, hw, norm):
        """``x + self(norm(x), hw)`` (eval mode, no autograd), a band of image rows at a time.

        Args:
            x (Tensor): (B, H*W, C) tokens.
            hw (tuple[int, int]): the map's height and width.
            norm (nn.Module): the block's norm before the FFN.
        """
        b, n, c = x.shape
        h, w = hw
        rows = max(1, BAND_ELEMENTS // (b * w * self.fc1.out_features))
        out = torch.empty_like(x)
        src, dst = x.view(b, h, w, c), out.view(b, h, w, c)
        for top in range(0, h, rows):
            bottom = min(top + rows, h)
            start, stop = max(top - 1, 0), min(bottom + 1, h)
            t = self.fc1(norm(src[:, start:stop]))
            if isinstance(self.relu, nn.ReLU):
                t = t.relu_()
            t = self.dwconv(t.permute(0, 3, 1, 2))[:, :, top - start : bottom - start]
            t = self._activate_(t.permute(0, 2, 3, 1))
            torch.add(src[:, top:bottom], self.fc2(t), out=dst[:, top:bottom])
        return out
