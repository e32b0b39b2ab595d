"""Parameters and FLOPs of a config's model (any task), no weights loaded.

Counted with mmengine's analysis tools (fvcore's counting: one multiply-add is one FLOP, the
convention of the SegFormer and PVT papers), with fused scaled-dot-product attention counted as
its two matrix products.
"""

import torch
from mmengine.analysis import FlopAnalyzer, parameter_count
from mmengine.analysis.jit_handles import get_shape
from mmengine.analysis.print_helper import complexity_stats_table
from mmengine.registry import DefaultScope, init_default_scope

from ..deploy.plain import TensorForward
from .dummy import dummy_batch


def sdpa_flop_jit(inputs, outputs):
    """FLOPs of ``scaled_dot_product_attention``: q @ k^T and attn @ v (multiply-adds)."""
    q, k, v = (get_shape(x) for x in inputs[:3])
    batch = 1
    for d in q[:-2]:
        batch *= d
    return batch * q[-2] * k[-2] * (q[-1] + v[-1])


def complexity(cfg, shape):
    """Parameters and FLOPs of ``cfg.model`` on one (3, H, W) image, and mmengine's table.

    Args:
        cfg (Config): the config (its ``default_scope`` picks the registries).
        shape (tuple[int, int]): input H, W.

    Returns:
        tuple[int, int, str]: parameters, FLOPs, and the per-module table (depth 3).
    """
    scope = cfg.get('default_scope', 'mmseg')
    init_default_scope(scope)
    with DefaultScope.overwrite_default_scope(scope):
        from mmengine.registry import MODELS

        model = MODELS.build(cfg.model).eval()
    x, samples = dummy_batch(cfg, 1, *shape)
    wrapped = TensorForward(model, samples).eval()
    with torch.no_grad():
        analyzer = FlopAnalyzer(wrapped, (torch.zeros_like(x),))
        analyzer.set_op_handle('aten::scaled_dot_product_attention', sdpa_flop_jit)
        analyzer.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
        flops = analyzer.total()
        table = complexity_stats_table(analyzer, max_depth=3)
    params = parameter_count(model)['']
    return params, flops, table
