"""The K worst images of a saved test run, drawn with their predictions (no model is run).

Scores every image (segmentation: its mIoU; detection: F1 of its boxes at IoU 0.5; depth: its
abs_rel), writes OUT_DIR/worst_images.json (the ranking) and one PNG per worst image: the image,
its ground truth and the prediction side by side.

Examples:
    python tools/analysis_tools/analyze_results.py CONFIG preds.pkl worst/ --topk 20
"""

import argparse

from pvtv2_dense.cli import ToolParser, cli_entry, load_config, refuse_overwrite
from pvtv2_dense.evaluation.analysis.commands import run_analyze_results


@cli_entry
def main(argv=None):
    parser = ToolParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='the config the results were made with')
    parser.add_argument('results', help='tools/test.py --out pickle')
    parser.add_argument('out_dir', help='output folder')
    parser.add_argument('--topk', type=int, default=10, help='how many worst images to draw')
    parser.add_argument('--score-thr', type=float, default=0.3, help='detection: keep scores >=')
    parser.add_argument('--overwrite', action='store_true', help='write into a non-empty out_dir')
    args = parser.parse_args(argv)
    refuse_overwrite(args.out_dir, 'out_dir', args.overwrite)
    cfg = load_config(args.config)
    paths = run_analyze_results(cfg, args.results, args.out_dir, args.topk, args.score_thr)
    print(f'wrote {len(paths) - 1} images and {paths[-1]}')


if __name__ == '__main__':
    main()
