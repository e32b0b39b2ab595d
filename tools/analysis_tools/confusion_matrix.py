"""Confusion matrix of a saved segmentation or detection test run (no model is run).

Writes OUT_DIR/confusion_matrix.png (rows normalised to percent) and confusion_matrix.csv (raw
counts: pixels for segmentation; for detection, box pairs plus a background row and column
for false positives and misses).

Examples:
    python tools/test.py CONFIG CKPT --out preds.pkl
    python tools/analysis_tools/confusion_matrix.py CONFIG preds.pkl diag/
    python tools/analysis_tools/confusion_matrix.py DET_CONFIG preds.pkl diag/ --score-thr 0.5
"""

import argparse

from pvtv2_dense.cli import ToolParser, cli_entry, load_config, refuse_overwrite
from pvtv2_dense.evaluation.analysis.commands import run_confusion_matrix


@cli_entry
def main(argv=None):
    parser = ToolParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='the config the results were made with (class names)')
    parser.add_argument('results', help='tools/test.py --out pickle')
    parser.add_argument('out_dir', help='output folder')
    parser.add_argument('--score-thr', type=float, default=0.3, help='detection: keep scores >=')
    parser.add_argument('--iou-thr', type=float, default=0.5, help='detection: match IoU >=')
    parser.add_argument('--overwrite', action='store_true', help='write into a non-empty out_dir')
    args = parser.parse_args(argv)
    refuse_overwrite(args.out_dir, 'out_dir', args.overwrite)
    cfg = load_config(args.config)
    paths = run_confusion_matrix(cfg, args.results, args.out_dir, args.score_thr, args.iou_thr)
    print('\n'.join(f'wrote {p}' for p in paths.values()))


if __name__ == '__main__':
    main()
