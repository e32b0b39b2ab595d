"""Robustness benchmark: evaluate a checkpoint on its config's test set clean and under the
ImageNet-C corruption families (noise, blur, weather, digital) at severities 1-5, applied in the
test pipeline right after the image is loaded (any task: segmentation, depth, detection,
panoptic).

Writes OUT_DIR/robustness.json (clean, mPC, rPC = mPC / clean, mCE, the full table),
robustness.csv and robustness.png. Give the metric key the test reports and, for metrics in
[0, 1] (mAP, d1), --scale 100; --lower-is-better for errors (abs_rel).

Examples:
    python tools/analysis_tools/test_robustness.py CONFIG CKPT --metric mIoU --out-dir rob/
    python tools/analysis_tools/test_robustness.py DET_CONFIG CKPT --metric coco/bbox_mAP \
        --scale 100 --corruptions gaussian_noise fog --severities 1 3 5 --out-dir rob/
"""

import argparse
import json
import os.path as osp

from mmengine.runner import Runner

from pvtv2_dense.cli import (
    CLIError,
    ToolParser,
    adapt_for_cpu,
    cli_entry,
    default_work_dir,
    load_config,
    refuse_overwrite,
)
from pvtv2_dense.datasets.transforms.corruptions import CORRUPTIONS
from pvtv2_dense.evaluation.robustness import run_robustness


@cli_entry
def main(argv=None):
    parser = ToolParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--metric', required=True, help='metric key, e.g. mIoU, coco/bbox_mAP')
    parser.add_argument('--out-dir', required=True, help='output folder')
    parser.add_argument('--corruptions', nargs='+', choices=sorted(CORRUPTIONS))
    parser.add_argument('--severities', nargs='+', type=int, default=[1, 2, 3, 4, 5])
    parser.add_argument('--scale', type=float, default=1.0, help='metric x scale = percent')
    parser.add_argument('--lower-is-better', action='store_true', help='the metric is an error')
    parser.add_argument('--baseline', help="another model's robustness.json, to normalise mCE")
    parser.add_argument('--work-dir', help='where the test logs go')
    parser.add_argument('--overwrite', action='store_true', help='write into a non-empty out_dir')
    args = parser.parse_args(argv)
    if not osp.isfile(args.checkpoint):
        raise CLIError(f'checkpoint {args.checkpoint} does not exist')
    refuse_overwrite(args.out_dir, '--out-dir', args.overwrite)
    baseline = None
    if args.baseline:
        with open(args.baseline) as f:
            baseline = json.load(f)
    cfg = load_config(args.config)
    cfg.work_dir = default_work_dir(cfg, args.config, args.work_dir)
    cfg.load_from = args.checkpoint
    adapt_for_cpu(cfg, 'none')
    summary, paths = run_robustness(
        Runner.from_cfg,
        cfg,
        args.metric,
        args.out_dir,
        args.corruptions,
        args.severities,
        not args.lower_is_better,
        args.scale,
        baseline,
    )
    print(
        f'clean {summary["clean"]:.2f}  mPC {summary["mPC"]:.2f}  rPC {summary["rPC"]:.3f}  '
        f'mCE {summary["mCE"]:.2f}'
    )
    print('\n'.join(f'wrote {p}' for p in paths.values()))


if __name__ == '__main__':
    main()
