"""Multi-scale deformable attention in plain PyTorch ops that ONNX exports (GridSample, opset
>= 16), for the export of mmdet's Deformable DETR family.

mmcv's ``MultiScaleDeformableAttention`` reads the level sizes from a tensor
(``spatial_shapes``) and, off CUDA, loops over them in Python: a traced graph would freeze them
and torch.export cannot read them. ``_msda_forward`` computes the same with the level sizes
given as a list of ``(h, w)`` (Python or symbolic ints, read from the feature maps), so a
dynamic graph keeps them symbolic. :func:`swap_msda` installs it on a copy of a model, for
export only; :func:`~pvtv2_dense.deploy.onnx.verify_onnx` checks the file against mmdet's own
forward.
"""

import types

import torch
import torch.nn.functional as F
from torch import nn

from ..models.layers.msda_attention import batch_first_tokens, project_output, sampling_inputs


def sample_levels(value, shapes, locations, weights):
    """Bilinearly sample every level at ``locations`` and sum with ``weights``.

    Args:
        value (Tensor): (bs, num_value, heads, c), the levels flattened one after another.
        shapes (list[tuple[int, int]]): (h, w) of each level.
        locations (Tensor): (bs, q, heads, levels, points, 2), x and y in [0, 1].
        weights (Tensor): (bs, q, heads, levels, points).

    Returns:
        Tensor: (bs, q, heads * c).
    """
    bs, _, heads, c = value.shape
    _, q, _, levels, points, _ = locations.shape
    grids = locations * 2 - 1  # grid_sample's coordinates span [-1, 1]
    sampled, start = [], 0
    for lvl, (h, w) in enumerate(shapes):
        level = value.narrow(1, start, h * w)
        start = start + h * w
        level = level.permute(0, 2, 3, 1).reshape(bs * heads, c, h, w)
        grid = grids[:, :, :, lvl].transpose(1, 2).reshape(bs * heads, q, points, 2)
        sampled.append(
            F.grid_sample(level, grid, mode='bilinear', padding_mode='zeros', align_corners=False)
        )
    stacked = torch.stack(sampled, -2).flatten(-2)  # (bs * heads, c, q, levels * points)
    weights = weights.transpose(1, 2).reshape(bs * heads, 1, q, levels * points)
    out = (stacked * weights).sum(-1).view(bs, heads * c, q)
    return out.transpose(1, 2)


def _msda_forward(
    self,
    query,
    key=None,
    value=None,
    identity=None,
    query_pos=None,
    key_padding_mask=None,
    reference_points=None,
    spatial_shapes=None,
    level_start_index=None,
    **kwargs,
):
    """The forward of mmcv's ``MultiScaleDeformableAttention`` with ``spatial_shapes`` a list."""
    query, value, identity = batch_first_tokens(self, query, value, identity, query_pos)
    one = query.new_ones(())  # the sizes are Python ints: constants of the graph
    level_wh = torch.stack([torch.stack([one * w, one * h]) for h, w in spatial_shapes])
    value, locations, weights = sampling_inputs(
        self, query, value, key_padding_mask, reference_points, level_wh
    )
    return project_output(self, sample_levels(value, spatial_shapes, locations, weights), identity)


def swap_msda(model: nn.Module) -> int:
    """Give every mmcv ``MultiScaleDeformableAttention`` of ``model`` the list-of-sizes
    forward (in place; use on a copy). Returns how many were swapped."""
    from mmcv.ops import MultiScaleDeformableAttention

    n = 0
    for module in model.modules():
        if isinstance(module, MultiScaleDeformableAttention):
            module.forward = types.MethodType(_msda_forward, module)
            n += 1
    return n
