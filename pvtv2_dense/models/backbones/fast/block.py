"""The PVTv2 block whose FFN residual runs a band of image rows at a time in CPU inference.

Without autograd the FFN's intermediate maps need not be kept, and on a CPU the first stages'
hidden maps (several MB each) leave the cache between fc1, the depth-wise conv, the activation
and fc2 when each runs over the whole map. :class:`FastPVTv2Block` replaces the seam
:meth:`PVTv2Block.ffn_residual` only: it calls the plain one (norm, the FFN's own forward and
the residual) on one band of rows after another, each widened by the rows the depth-wise
convolution reads above and below it, and keeps the band's own rows. The result is the whole
map's, and a change to the FFN's forward or to the plain ``ffn_residual`` applies here too, as
long as each output row still depends only on the input rows within the depth-wise
convolution's reach (read from ``mlp.dwconv``); the block checks that on a probe input when it
is built, and refuses an FFN it cannot run in bands.
``docs/benchmarks.md`` has the measurements that set the thresholds below.
"""

import torch
from torch import nn

from ....errors import ConfigError
from ...implementations import check_same
from ..pvt_v2_layers import PVTv2Block
from .mix_ffn import FastMixFFN, cpu_inference

# Elements of one band's hidden map (2 MB in fp32), and the fewest elements of the whole hidden
# map for which bands pay (at 512x512: the first two stages).
BAND_ELEMENTS = 2**19
BAND_MIN_ELEMENTS = 4 * BAND_ELEMENTS


class FastPVTv2Block(PVTv2Block):
    """:class:`PVTv2Block` whose :meth:`ffn_residual` may run in bands of rows.

    ``bands='auto'`` runs bands in CPU inference (eval mode, no autograd, not compiling) where
    the hidden map has at least ``BAND_MIN_ELEMENTS``, and the plain ``ffn_residual`` otherwise.
    ``bands='always'`` (``ffn_impl='banded'``) always runs in bands and refuses training and
    autograd (which need the intermediate maps it never keeps).

    Args:
        *args: those of :class:`PVTv2Block`.
        bands (str): 'auto' or 'always'.
        **kwargs: those of :class:`PVTv2Block`.

    Raises:
        ConfigError: an FFN whose depth-wise convolution is not a stride-1 convolution padded to
            keep the map's size, or whose residual bands do not reproduce on a probe input.
    """

    def __init__(self, *args, bands='auto', **kwargs):
        super().__init__(*args, **kwargs)
        if bands not in ('auto', 'always'):
            raise ConfigError(f"FastPVTv2Block: bands={bands!r}; expected 'auto' or 'always'")
        self.bands = bands
        conv = getattr(self.mlp, 'dwconv', None)
        reach = None
        if type(conv) is nn.Conv2d and conv.stride == (1, 1) and conv.padding_mode == 'zeros':
            reach = conv.dilation[0] * (conv.kernel_size[0] // 2)
            if conv.padding[0] != reach or conv.kernel_size[0] % 2 == 0:
                reach = None
        if reach is None:
            raise ConfigError(
                f'PVTv2: ffn_impl={"banded" if bands == "always" else "auto"!r} runs the FFN in '
                f'bands of rows and needs its dwconv to be a stride-1 nn.Conv2d padded to keep '
                f"the size, not {conv}; use ffn_impl='plain'"
            )
        # Rows above and below a band that its rows depend on.
        self.reach = reach
        self._check_bands()

    def _check_bands(self):
        """Refuse an FFN residual that bands do not reproduce: on a small random map in eval
        mode, one-row bands must give what the plain :meth:`PVTv2Block.ffn_residual` gives on
        the whole map (catches an edited FFN that reads rows beyond its depth-wise conv)."""
        g = torch.Generator().manual_seed(0)
        hw = (5, 7)
        x = torch.randn(2, hw[0] * hw[1], self.norm2.normalized_shape[0], generator=g)
        modes = [(m, m.training) for m in self.modules()]
        self.eval()
        try:
            with torch.no_grad():
                ref = super().ffn_residual(x, hw)
                out = self._in_bands(x, hw, rows=1)
        finally:
            for m, mode in modes:
                m.training = mode
        if out.shape != ref.shape or (out - ref).abs().max() > 1e-4 * (1 + ref.abs().max()):
            name = 'banded' if self.bands == 'always' else 'auto'
            raise ConfigError(
                f"PVTv2: ffn_impl='{name}' runs PVTv2Block.ffn_residual a band of rows at a "
                'time, and bands do not reproduce it on a probe input (does the FFN read rows '
                "beyond its depth-wise conv?); use ffn_impl='plain'"
            )

    def runs_in_bands(self, x):
        """Whether :meth:`ffn_residual` runs in bands for the (B, N, C) tokens ``x``."""
        if self.bands == 'always':
            if self.training or torch.is_grad_enabled():
                raise ConfigError(
                    "PVTv2: ffn_impl='banded' runs inference only (eval mode, no autograd); "
                    "use ffn_impl='auto' to train"
                )
            return True
        return (
            not self.training
            and cpu_inference(x)
            and x.shape[0] * x.shape[1] * self.mlp.fc1.out_features >= BAND_MIN_ELEMENTS
        )

    def ffn_residual(self, x, hw):
        if not self.runs_in_bands(x):
            return super().ffn_residual(x, hw)
        rows = BAND_ELEMENTS // (x.shape[0] * hw[1] * self.mlp.fc1.out_features)
        return self._in_bands(x, hw, max(1, rows))

    def _in_bands(self, x, hw, rows):
        """The plain :meth:`PVTv2Block.ffn_residual` of ``x``, ``rows`` rows at a time."""
        b, _, c = x.shape
        h, w = hw
        out = torch.empty_like(x)
        src, dst = x.view(b, h, w, c), out.view(b, h, w, c)
        for top in range(0, h, rows):
            bottom = min(top + rows, h)
            start, stop = max(top - self.reach, 0), min(bottom + self.reach, h)
            band = src[:, start:stop].reshape(b, -1, c)
            y = super().ffn_residual(band, (stop - start, w))
            dst[:, top:bottom] = y.view(b, stop - start, w, c)[:, top - start : bottom - start]
        return out


def self_check(bands='always'):
    """``FastPVTv2Block(bands=bands)`` with :class:`FastMixFFN` against the plain block on a
    small map: in CPU inference its FFN residual runs in bands of two rows; with ``'auto'`` also
    with autograd and in training (see ``pvtv2_dense.models.implementations.check_same``)."""
    modes = ((False, False),) if bands == 'always' else ((False, False), (True, True))
    for linear in (False, True):
        torch.manual_seed(0)
        options = dict(mlp_ratio=2, sr_ratio=2, linear=linear, drop_path=0.1)
        plain = PVTv2Block(8, 2, **options)
        fast = FastPVTv2Block(8, 2, bands=bands, ffn_cls=FastMixFFN, **options)
        seam = fast.ffn_residual

        def in_bands(x, hw, fast=fast, seam=seam):  # two-row bands where the route bands
            return fast._in_bands(x, hw, rows=2) if fast.runs_in_bands(x) else seam(x, hw)

        fast.ffn_residual = in_bands
        if bands == 'auto':
            fast.runs_in_bands = lambda x: not torch.is_grad_enabled()
        check_same(plain, fast, [torch.randn(2, 5 * 7, 8), (5, 7)], modes)
