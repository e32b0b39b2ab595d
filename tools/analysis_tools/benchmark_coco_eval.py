"""Time COCO evaluators against the references on a synthetic COCO-scale set, checking that
they give the same numbers (pycocotools for box / mask AP, panopticapi for PQ).

Prints a Markdown table: seconds per evaluator (whole evaluation, from results in memory for
AP, from PNGs on disk for PQ), speed-up over the reference, the largest absolute difference
over COCO's 12 AP/AR numbers (or PQ/SQ/RQ of all, things, stuff and every class) and whether
it is within 1e-4. The numbers of docs/benchmarks.md come from the defaults.

Examples:
    python tools/analysis_tools/benchmark_coco_eval.py                  # 5,000 images
    python tools/analysis_tools/benchmark_coco_eval.py --images 500 --pq-images 500
    python tools/analysis_tools/benchmark_coco_eval.py --skip-pq
"""

import argparse
import platform

from pvtv2_dense.cli import ToolParser, cli_entry
from pvtv2_dense.evaluation.eval_benchmark import (
    benchmark_ap,
    benchmark_pq,
    machine_load,
    markdown_table,
)


@cli_entry
def main(argv=None):
    parser = ToolParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--images', type=int, default=5000, help='images of the AP set')
    parser.add_argument('--dets', type=int, default=100, help='detections per image')
    parser.add_argument('--pq-images', type=int, default=5000, help='images of the PQ set')
    parser.add_argument('--pq-size', type=int, nargs=2, default=[96, 128], metavar=('H', 'W'))
    parser.add_argument('--skip-ap', action='store_true')
    parser.add_argument('--skip-pq', action='store_true')
    parser.add_argument('--work-dir', help='where the PQ PNGs are written (a temporary folder)')
    args = parser.parse_args(argv)
    print(f'# COCO evaluators, {platform.machine()}, {machine_load()} (before)', flush=True)
    rows = []
    if not args.skip_ap:
        rows += benchmark_ap(args.images, args.dets)
        print(f'AP: {args.images} images x {args.dets} detections; {machine_load()} (after)')
        print(markdown_table(rows), flush=True)
    if not args.skip_pq:
        pq = benchmark_pq(args.pq_images, tuple(args.pq_size), work_dir=args.work_dir)
        size = 'x'.join(map(str, args.pq_size))
        print(f'PQ: {args.pq_images} images {size}; {machine_load()} (after)')
        print(markdown_table(pq), flush=True)
        rows += pq
    if not all(row[-1] for row in rows):
        raise SystemExit('an evaluator differs from the reference by more than 1e-4')


if __name__ == '__main__':
    main()
