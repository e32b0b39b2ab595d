"""Whole models against the reference implementations, identical weights and inputs, one run.

Segmentation: our SegFormer-equivalent (PVTv2 with mlp ratios 4 + all-MLP head) against mmseg's
SegFormer (MixVisionTransformer + SegformerHead; encoder weights shared, head of its own design,
256 wide as in mmseg's configs; 'mmseg-768' is the same at the paper's b2-b5 width E=768, which
ours and HF's use) and HF's SegformerForSemanticSegmentation (all weights shared), inference and
a full training step (forward, loss, backward, AdamW), and for CPU inference ours exported to
ONNX (tools/deployment/export_onnx.py's graph) run in ONNX Runtime ('onnxruntime'). GLPN: ours
against HF's GLPNForDepthEstimation (all weights shared), inference at 480x640. Deformable DETR
(our config):
on our PVTv2 against the same detector on mmdet's own PyramidVisionTransformerV2 (all weights
shared), inference (``predict``) and a training step at --det-size (640x640 by default). Each
measurement runs in a fresh process; the table gives the median (warm-up excluded), each peer's
time over ours and the peak memory of the step (CPU: see pvtv2_dense.benchmark.timing).
Panoptic: our Panoptic SegFormer config against mmdet's COCO panoptic Mask2Former on the same
PVTv2 (same class and weights; Mask2Former also reads stage 1), inference and a training step at
--det-size.

On a shared machine whose speed drifts, --rounds N measures every implementation N times in
alternating order (fresh processes each time): the table then gives the median of the rounds'
medians and the median of the per-round ratios, so that a slow spell hits both sides of a ratio.
--paired builds ours and one peer at a time in one fresh process per round and times them in
turn, one run each per iteration: the table gives the median run and the median of the
per-iteration ratios (paired runs, seconds apart rather than minutes); peak memory still comes
from fresh processes.

Examples:
    python tools/analysis_tools/benchmark_peers.py                      # b0 and b2, 512x512
    python tools/analysis_tools/benchmark_peers.py --archs b0 --modes infer --repeat 5
    python tools/analysis_tools/benchmark_peers.py --suites deformable_detr --det-size 800
    python tools/analysis_tools/benchmark_peers.py --suites panoptic --archs b0 b2
    python tools/analysis_tools/benchmark_peers.py --archs b2 --modes infer --paired --repeat 20
"""

import argparse
import os.path as osp
import platform
import statistics

from pvtv2_dense.benchmark.timing import (
    measure_step_in_subprocess,
    measure_steps_paired_in_subprocess,
    peak_memory_in_subprocess,
)
from pvtv2_dense.cli import ToolParser, cli_entry
from pvtv2_dense.models.backbones import ARCH_SETTINGS

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SUITES = {
    'segformer': (
        'pvtv2_dense.benchmark.segformer:segformer_step',
        ('ours', 'mmseg', 'mmseg-768', 'hf', 'onnxruntime'),
    ),
    'glpn': ('pvtv2_dense.benchmark.glpn:glpn_step', ('ours', 'hf')),
    'deformable_detr': ('pvtv2_dense.benchmark.detr:detr_step', ('ours', 'mmdet')),
    'panoptic': ('pvtv2_dense.benchmark.panoptic:panoptic_step', ('ours', 'mask2former')),
}
# Our model of each suite comes from the config shipped for that size.
CONFIGS = {
    'segformer': 'configs/segformer/segformer_mit-{}_8xb2-160k_ade20k-512x512.py',
    'deformable_detr': 'configs/deformable_detr/deformable-detr_pvtv2-{}_16xb2-50e_coco.py',
    'panoptic': 'configs/panoptic_segformer/panoptic-segformer_pvtv2-{}_8xb1-24e_coco-panoptic.py',
}
# GLPN is measured for inference at 480x640 (NYU frames), whatever --size says.
GLPN_SIZE = (480, 640)
# Deformable DETR's and the panoptic models' input side (--det-size); --size is segmentation's.
DET_SIZE = 640


def fresh_rounds(builder, impls, kwargs, args, grad):
    """Per implementation, one entry per round (each in a fresh process, alternating order),
    with ``ours_ms``, our time in the same round; the first entry carries the peak memory."""
    runs = {impl: [] for impl in impls}
    for k in range(args.rounds):
        for impl in impls if k % 2 == 0 else impls[::-1]:
            runs[impl].append(
                measure_step_in_subprocess(
                    builder,
                    dict(kwargs, impl=impl),
                    args.device,
                    args.repeat,
                    1,
                    grad,
                    memory=k == 0,
                )
            )
    for rs in runs.values():
        for r, ours in zip(rs, runs[impls[0]]):
            if 'error' not in r and 'error' not in ours:
                r['ours_ms'] = ours['median_ms']
    return runs


def paired_rounds(builder, impls, kwargs, args, grad):
    """--paired: ours and one peer at a time, built in one fresh process per round and timed
    in turn. Per implementation, one entry per timed run with ``ours_ms``, our run next to it;
    the first entry carries the peak memory of a fresh-process run. (Pairs, not every model in
    one process: models sharing a process share glibc's heap, and one model's large buffers
    change how often another's allocations fault.)"""
    ours, runs = impls[0], {impl: [] for impl in impls}
    for peer in impls[1:]:
        for k in range(args.rounds):
            pair = (ours, peer) if k % 2 == 0 else (peer, ours)
            results = measure_steps_paired_in_subprocess(
                builder, [dict(kwargs, impl=i) for i in pair], args.device, args.repeat, 1, grad
            )
            results = dict(zip(pair, results))
            for impl, result in results.items():
                if 'error' in result:
                    runs[impl].append(result)
            if 'error' in results[ours]:
                continue
            ours_ms = results[ours]['times_ms']
            runs[ours] += [dict(median_ms=t, ours_ms=t) for t in ours_ms]
            if 'error' not in results[peer]:
                times = results[peer]['times_ms']
                runs[peer] += [dict(median_ms=t, ours_ms=u) for t, u in zip(times, ours_ms)]
    for impl, rs in runs.items():
        if rs and 'error' not in rs[0]:
            memory = peak_memory_in_subprocess(builder, dict(kwargs, impl=impl), args.device, grad)
            rs[0] = memory if 'error' in memory else dict(rs[0], peak_mb=memory['peak_mb'])
    return runs


@cli_entry
def main(argv=None):
    parser = ToolParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--suites', nargs='+', default=list(SUITES), choices=list(SUITES))
    parser.add_argument('--archs', nargs='+', default=['b0', 'b2'], choices=sorted(ARCH_SETTINGS))
    parser.add_argument(
        '--modes', nargs='+', default=['infer', 'train'], choices=['infer', 'train']
    )
    parser.add_argument('--size', type=int, default=512)
    parser.add_argument('--det-size', type=int, default=DET_SIZE)
    parser.add_argument('--batch', type=int, default=1)
    parser.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    parser.add_argument('--repeat', type=int, default=5)
    parser.add_argument('--rounds', type=int, default=1)
    parser.add_argument('--paired', action='store_true')
    args = parser.parse_args(argv)

    import torch

    card = torch.cuda.get_device_name() if args.device == 'cuda' else platform.machine()
    print(
        f'# fp32 {args.device} ({card}), {torch.get_num_threads()} threads, batch {args.batch}, '
        f'{args.rounds} round(s) of {args.repeat} timed runs'
        f'{", paired with ours in one process per peer" if args.paired else ""}'
    )
    print('| model | arch | input | mode | impl | median ms | peer/ours | peak MB |')
    print('|---|---|---|---|---|---|---|---|')
    for suite in args.suites:
        builder, impls = SUITES[suite]
        for arch in args.archs:
            for mode in args.modes:
                if suite == 'glpn' and mode != 'infer':
                    continue
                sizes = dict(glpn=GLPN_SIZE, deformable_detr=args.det_size, panoptic=args.det_size)
                size = sizes.get(suite, args.size)
                kwargs = dict(arch=arch, mode=mode, size=size, batch=args.batch)
                if suite in CONFIGS:
                    kwargs['config'] = osp.join(ROOT, CONFIGS[suite].format(arch))
                rounds = paired_rounds if args.paired else fresh_rounds
                # ONNX Runtime: inference on the CPU only.
                skip = {'onnxruntime'} if mode != 'infer' or args.device != 'cpu' else set()
                shown_impls = tuple(i for i in impls if i not in skip)
                runs = rounds(builder, shown_impls, kwargs, args, mode == 'train')
                shown = 'x'.join(map(str, size)) if isinstance(size, tuple) else size
                for impl, rs in runs.items():
                    head = f'| {suite} | {arch} | {shown} | {mode} | {impl} |'
                    error = next((r['error'] for r in rs if 'error' in r), None)
                    if error or any('error' in r for r in runs['ours']):
                        print(f'{head} n/a | | {error or "ours failed"} |', flush=True)
                        continue
                    ms = statistics.median(r['median_ms'] for r in rs)
                    ratio = statistics.median(r['median_ms'] / r['ours_ms'] for r in rs)
                    print(f'{head} {ms:.0f} | {ratio:.2f}x | {rs[0]["peak_mb"]:.0f} |', flush=True)


if __name__ == '__main__':
    main()
