"""Parameters and FLOPs of any config's model (segmentation, depth, detection, classification).

Counted with mmengine's analysis tools (fvcore's counting: one multiply-add is one FLOP, the
convention of the SegFormer and PVT papers), with fused scaled-dot-product attention counted as
its two matrix products. No weights are loaded.

Examples:
    python tools/analysis_tools/get_flops.py \
        configs/segformer/segformer_pvtv2-b0_8xb2-160k_ade20k-512x512.py
    python tools/analysis_tools/get_flops.py CONFIG --shape 512 1024 --table
    python tools/analysis_tools/get_flops.py CONFIG --json out.json
"""

import argparse
import json
import os.path as osp

import torch
from mmengine.analysis import FlopAnalyzer, parameter_count
from mmengine.analysis.jit_handles import get_shape
from mmengine.analysis.print_helper import complexity_stats_table
from mmengine.config import DictAction
from mmengine.registry import DefaultScope, init_default_scope

from pvtv2_dense.cli import (
    CLIError,
    ToolParser,
    atomic_output,
    cli_entry,
    load_config,
    refuse_overwrite,
)


def sdpa_flop_jit(inputs, outputs):
    """FLOPs of ``scaled_dot_product_attention``: q @ k^T and attn @ v (multiply-adds)."""
    q, k, v = (get_shape(x) for x in inputs[:3])
    batch = 1
    for d in q[:-2]:
        batch *= d
    return batch * q[-2] * k[-2] * (q[-1] + v[-1])


class _TensorForward(torch.nn.Module):
    """Calls the model's tensor-mode forward with data samples built for the input size."""

    def __init__(self, model, scope, shape):
        super().__init__()
        self.model = model
        h, w = shape
        meta = dict(img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w), batch_input_shape=(h, w),
                    scale_factor=(1.0, 1.0))  # fmt: skip
        if scope == 'mmdet':
            from mmdet.structures import DetDataSample

            self.samples = [DetDataSample(metainfo=meta)]
        else:
            from mmseg.structures import SegDataSample

            self.samples = [SegDataSample(metainfo=meta)]

    def forward(self, x):
        # The classifier's tensor mode needs no data samples.
        if not hasattr(self.model, '_forward'):
            return self.model(x, mode='tensor')
        return self.model._forward(x, self.samples)


def complexity(cfg, shape):
    """(params, flops, table) of ``cfg.model`` on one (3, H, W) image."""
    scope = cfg.get('default_scope', 'mmseg')
    init_default_scope(scope)
    with DefaultScope.overwrite_default_scope(scope):
        from mmengine.registry import MODELS

        model = MODELS.build(cfg.model).eval()
    wrapped = _TensorForward(model, scope, shape).eval()
    x = torch.zeros(1, 3, *shape)
    with torch.no_grad():
        analyzer = FlopAnalyzer(wrapped, (x,))
        analyzer.set_op_handle('aten::scaled_dot_product_attention', sdpa_flop_jit)
        analyzer.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
        flops = analyzer.total()
        table = complexity_stats_table(analyzer, max_depth=3)
    params = parameter_count(model)['']
    return params, flops, table


@cli_entry
def main(argv=None):
    parser = ToolParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='config file')
    parser.add_argument(
        '--shape', type=int, nargs='+', default=[512, 512], help='input H W (or one size)'
    )
    parser.add_argument('--table', action='store_true', help='print the per-module table')
    parser.add_argument('--json', help='also write {"params", "flops"} to this file')
    parser.add_argument('--overwrite', action='store_true', help='write over an existing --json')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config keys')
    args = parser.parse_args(argv)
    if len(args.shape) not in (1, 2) or min(args.shape) < 1:
        raise CLIError(f'--shape takes H W or one size, got {args.shape}')
    shape = tuple(args.shape * 2 if len(args.shape) == 1 else args.shape)
    refuse_overwrite(args.json, '--json', args.overwrite)
    cfg = load_config(args.config, args.cfg_options)
    params, flops, table = complexity(cfg, shape)
    if args.table:
        print(table)
    print(f'{osp.basename(args.config)}  input 3x{shape[0]}x{shape[1]}')
    print(f'params: {params / 1e6:.2f} M   FLOPs: {flops / 1e9:.2f} G')
    if args.json:
        with atomic_output(args.json) as tmp, open(tmp, 'w') as f:
            json.dump(dict(config=args.config, shape=shape, params=params, flops=flops), f)


if __name__ == '__main__':
    main()
