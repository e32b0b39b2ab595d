"""The PVTv2 block whose FFN residual may run in bands (see ``mix_ffn.py``)."""

from ..pvt_v2 import PVTv2Block


class FastPVTv2Block(PVTv2Block):
    """:class:`PVTv2Block` with a :class:`FastMixFFN`: where the FFN runs in bands, its norm and
    residual go with it, a band at a time; otherwise the plain block's order of operations."""

    def forward(self, x, hw, need_weights=False):
        y, weights = self.attn(self.norm1(x), hw, need_weights)
        x = x + self.drop_path(y)
        if self.mlp.runs_in_bands(x):
            return self.mlp.residual_in_bands(x, hw, self.norm2), weights
        return x + self.drop_path(self.mlp(self.norm2(x), hw)), weights
