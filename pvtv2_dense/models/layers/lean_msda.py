"""A lean multi-scale deformable attention kernel: mmcv's PyTorch path's result with less memory.

mmcv's ``multi_scale_deformable_attn_pytorch`` samples every level with ``grid_sample``, stacks
the sampled values of all levels into one (batch x heads, channels, queries, levels x points)
tensor, multiplies it by the attention weights and sums; autograd keeps the stacked copy for
backward (139 MB per encoder layer of Deformable DETR at 640x640). This kernel builds the output
level by level (one level's samples alive at a time) and keeps only its inputs for backward,
where it samples each level again and applies ``grid_sample``'s own backward kernel directly.
The results equal mmcv's in float64, outputs and every gradient
(``tests/models/test_lean_msda.py``); what it cannot reproduce it refuses in one line.
"""

import torch
import torch.nn.functional as F
from torch.autograd.function import once_differentiable

from ...errors import ConfigError

# The dtypes and devices the kernel's backward covers (aten's grid_sampler_2d_backward).
DTYPES = (torch.float32, torch.float64)
DEVICES = ('cpu', 'cuda')
# aten's codes for grid_sample(mode='bilinear', padding_mode='zeros').
_BILINEAR, _ZEROS = 0, 0


def unsupported_reason(value, spatial_shapes, sampling_locations, attention_weights):
    """Why :func:`lean_msda` cannot reproduce mmcv's PyTorch path on these inputs, or None.

    Args:
        value (Tensor): (batch, keys, heads, channels per head).
        spatial_shapes (Tensor): (levels, 2), each level's (h, w).
        sampling_locations (Tensor): (batch, queries, heads, levels, points, 2), (x, y) in [0, 1].
        attention_weights (Tensor): (batch, queries, heads, levels, points).

    Returns:
        str | None: what is unsupported, or None.
    """
    if torch.is_autocast_enabled(value.device.type):
        return 'autocast (it changes dtypes between the kernel and its backward)'
    tensors = (value, sampling_locations, attention_weights)
    dtypes = {t.dtype for t in tensors}
    if len(dtypes) != 1 or value.dtype not in DTYPES:
        names = sorted(str(d).replace('torch.', '') for d in dtypes)
        return f'dtypes {names} (one of float32, float64 for all three inputs)'
    if value.device.type not in DEVICES or any(t.device != value.device for t in tensors):
        return f'device {value.device.type} (cpu or cuda, all inputs on one)'
    if value.dim() != 4 or sampling_locations.dim() != 6 or attention_weights.dim() != 5:
        return (
            f'shapes {tuple(value.shape)}, {tuple(sampling_locations.shape)}, '
            f'{tuple(attention_weights.shape)} (4-D value, 6-D locations, 5-D weights)'
        )
    bs, keys, heads, _ = value.shape
    levels = spatial_shapes.shape[0] if spatial_shapes.dim() == 2 else -1
    if (
        sampling_locations.shape[:3] != (bs, sampling_locations.shape[1], heads)
        or sampling_locations.shape[-1] != 2
        or sampling_locations.shape[3] != levels
        or attention_weights.shape != sampling_locations.shape[:-1]
        or spatial_shapes.shape[-1] != 2
    ):
        return (
            f'shapes value {tuple(value.shape)}, locations {tuple(sampling_locations.shape)}, '
            f'weights {tuple(attention_weights.shape)}, levels {tuple(spatial_shapes.shape)} '
            '(mmcv layout)'
        )
    if int(spatial_shapes.prod(1).sum()) != keys:
        return f'level sizes {spatial_shapes.tolist()} adding up to {keys} keys'
    return None


def _levels(value, spatial_shapes):
    """Each level's value as (batch x heads, channels, h, w) (mmcv's layout), and its (h, w)."""
    bs, _, heads, dims = value.shape
    shapes = [(int(h), int(w)) for h, w in spatial_shapes.tolist()]
    chunks = value.split([h * w for h, w in shapes], dim=1)
    return [
        (c.flatten(2).transpose(1, 2).reshape(bs * heads, dims, h, w), (h, w))
        for c, (h, w) in zip(chunks, shapes)
    ]


def _per_level(sampling_locations, attention_weights):
    """Grids (batch x heads, points, queries, 2) in [-1, 1] and weights (batch x heads, points,
    1, queries) of every level: points before queries, so that each point's samples are one
    contiguous (channels, queries) block to accumulate."""
    bs, queries, heads, levels, points, _ = sampling_locations.shape
    grids = 2 * sampling_locations - 1  # grid_sample's coordinates, as mmcv computes them
    return [
        (
            grids[:, :, :, lvl].permute(0, 2, 3, 1, 4).reshape(bs * heads, points, queries, 2),
            attention_weights[:, :, :, lvl].permute(0, 2, 3, 1).reshape(bs * heads, points, 1, -1),
        )
        for lvl in range(levels)
    ]


def _sample(level_value, grid):
    """(batch x heads, channels, points, queries): the bilinear samples, zero outside."""
    return F.grid_sample(
        level_value, grid, mode='bilinear', padding_mode='zeros', align_corners=False
    )


class _LeanMSDAFunction(torch.autograd.Function):
    """Forward level by level; backward samples again (nothing of the samples' size is kept)."""

    @staticmethod
    def forward(ctx, value, spatial_shapes, sampling_locations, attention_weights):
        bs, _, heads, dims = value.shape
        queries = sampling_locations.shape[1]
        out = value.new_zeros(bs * heads, dims, queries)
        levels = _per_level(sampling_locations, attention_weights)
        for (level_value, _), (grid, weight) in zip(_levels(value, spatial_shapes), levels):
            samples = _sample(level_value, grid)
            for point in range(grid.shape[1]):  # in place: no product of the samples' size
                out.addcmul_(samples[:, :, point], weight[:, point])
        ctx.save_for_backward(value, spatial_shapes, sampling_locations, attention_weights)
        return out.view(bs, heads * dims, queries).transpose(1, 2).contiguous()

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out):
        value, spatial_shapes, sampling_locations, attention_weights = ctx.saved_tensors
        need_value, _, need_loc, need_weight = ctx.needs_input_grad
        bs, _, heads, dims = value.shape
        queries, _, levels, points = sampling_locations.shape[1:5]
        # (batch, queries, heads x channels) -> (batch x heads, channels, 1, queries), contiguous:
        # grid_sample's backward copies a strided gradient of the samples' size otherwise
        grad = grad_out.transpose(1, 2).contiguous().view(bs * heads, dims, 1, queries)
        grad_value = torch.zeros_like(value) if need_value else None
        grad_grids, grad_weights, start = [], [], 0
        per_level = _per_level(sampling_locations, attention_weights)
        for (level_value, (h, w)), (grid, weight) in zip(_levels(value, spatial_shapes), per_level):
            if need_weight:
                # d out / d weight: the sample itself, dotted with the gradient over channels
                grad_weights.append((_sample(level_value, grid) * grad).sum(1))
            if need_value or need_loc:
                grad_value_l, grad_grid = torch.ops.aten.grid_sampler_2d_backward(
                    grad * weight.transpose(1, 2),
                    level_value,
                    grid,
                    _BILINEAR,
                    _ZEROS,
                    False,
                    [need_value, need_loc],
                )
                if need_value:
                    # (batch x heads, channels, h, w) -> (batch, h x w, heads, channels)
                    grad_level = grad_value_l.view(bs, heads * dims, h * w).transpose(1, 2)
                    grad_value[:, start : start + h * w] = grad_level.view(bs, h * w, heads, dims)
                if need_loc:
                    grad_grids.append(grad_grid)
            start += h * w
        grad_loc = grad_weight = None
        if need_loc:
            # (batch x heads, points, queries, 2) per level -> mmcv's layout; x2: the grid is
            # 2 * location - 1
            stacked = torch.stack(grad_grids, 1).view(bs, heads, levels, points, queries, 2)
            grad_loc = 2 * stacked.permute(0, 4, 1, 2, 3, 5)
        if need_weight:
            stacked = torch.stack(grad_weights, 1).view(bs, heads, levels, points, queries)
            grad_weight = stacked.permute(0, 4, 1, 2, 3).contiguous()
        return grad_value, None, grad_loc, grad_weight


def lean_msda(value, spatial_shapes, sampling_locations, attention_weights):
    """mmcv's ``multi_scale_deformable_attn_pytorch`` computed lean (see the module docstring).

    Args:
        value (Tensor): (batch, keys, heads, channels per head), the levels' keys concatenated.
        spatial_shapes (Tensor): (levels, 2), each level's (h, w).
        sampling_locations (Tensor): (batch, queries, heads, levels, points, 2), (x, y) in [0, 1].
        attention_weights (Tensor): (batch, queries, heads, levels, points).

    Returns:
        Tensor: (batch, queries, heads x channels per head).

    Raises:
        ConfigError: inputs it cannot reproduce mmcv's result on (see :func:`unsupported_reason`).
    """
    reason = unsupported_reason(value, spatial_shapes, sampling_locations, attention_weights)
    if reason is not None:
        raise ConfigError(
            f"lean multi-scale deformable attention cannot take {reason}; select msda_impl='mmcv'"
        )
    return _LeanMSDAFunction.apply(value, spatial_shapes, sampling_locations, attention_weights)
