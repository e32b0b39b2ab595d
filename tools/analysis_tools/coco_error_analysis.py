"""COCO error analysis of a saved detection run (no model is run): precision-recall curves
at IoU 0.75 / 0.5 / 0.1 and class-agnostic, and the TIDE error types (AP lost to wrong
classes, poor boxes, duplicates, background false positives and misses).

Writes OUT_DIR/coco_errors.png and coco_errors.json.

Examples:
    python tools/analysis_tools/coco_error_analysis.py DET_CONFIG preds.pkl diag/
"""

import argparse

from pvtv2_dense.cli import ToolParser, cli_entry, load_config, refuse_overwrite
from pvtv2_dense.evaluation.analysis.commands import run_coco_error_analysis


@cli_entry
def main(argv=None):
    parser = ToolParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='the config the results were made with')
    parser.add_argument('results', help='tools/test.py --out pickle of a detection config')
    parser.add_argument('out_dir', help='output folder')
    parser.add_argument('--ann-file', help="COCO annotation JSON instead of the config's")
    parser.add_argument('--overwrite', action='store_true', help='write into a non-empty out_dir')
    args = parser.parse_args(argv)
    refuse_overwrite(args.out_dir, 'out_dir', args.overwrite)
    cfg = load_config(args.config)
    paths = run_coco_error_analysis(cfg, args.results, args.out_dir, args.ann_file)
    print('\n'.join(f'wrote {p}' for p in paths.values()))


if __name__ == '__main__':
    main()
