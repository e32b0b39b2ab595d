"""Adaptive average pooling written with ops that ONNX exports for any input size.

``nn.AdaptiveAvgPool2d`` exports to ONNX only when the input size divides the output size
(the exporter turns it into a fixed AveragePool), so linear SRA's pooling to 7x7 breaks dynamic
input sizes. Bin ``i`` of ``n`` over a length ``L`` covers ``[floor(i L / n), ceil((i + 1) L / n))``
(PyTorch's definition); here each axis is averaged by a (n, L) matrix built from those bounds
with ``arange`` and comparisons, so the graph works out the windows from the input's shape.
"""

import torch
from torch import nn


def pooling_matrix(length, bins: int, like: torch.Tensor) -> torch.Tensor:
    """The (bins, length) matrix whose rows average the adaptive-pooling windows of an axis.

    Args:
        length (int | SymInt): size of the pooled axis.
        bins (int): output size of that axis.
        like (Tensor): gives the dtype and device of the result.
    """
    i = torch.arange(bins, device=like.device)
    start = torch.div(i * length, bins, rounding_mode='floor')
    end = torch.div((i + 1) * length + bins - 1, bins, rounding_mode='floor')
    pos = torch.arange(length, device=like.device)
    inside = (pos[None, :] >= start[:, None]) & (pos[None, :] < end[:, None])
    return inside.to(like.dtype) / (end - start)[:, None].to(like.dtype)


class ExportableAdaptiveAvgPool2d(nn.Module):
    """``nn.AdaptiveAvgPool2d(output_size)`` as two matrix products, for ONNX export.

    Args:
        output_size (int | tuple[int, int]): output height and width.
    """

    def __init__(self, output_size):
        super().__init__()
        if isinstance(output_size, int):
            output_size = (output_size, output_size)
        self.output_size = tuple(output_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rows = pooling_matrix(x.shape[-2], self.output_size[0], x)
        cols = pooling_matrix(x.shape[-1], self.output_size[1], x)
        return rows @ x @ cols.transpose(0, 1)


def swap_adaptive_pools(model: nn.Module) -> int:
    """Replace every ``nn.AdaptiveAvgPool2d`` with a fixed output size in ``model`` (in place).

    Returns:
        int: how many were replaced.
    """
    swapped = 0
    for parent in model.modules():
        for name, child in parent.named_children():
            size = getattr(child, 'output_size', None)
            fixed = isinstance(size, int) or (
                isinstance(size, tuple) and all(isinstance(s, int) for s in size)
            )
            if isinstance(child, nn.AdaptiveAvgPool2d) and fixed:
                setattr(parent, name, ExportableAdaptiveAvgPool2d(size))
                swapped += 1
    return swapped
