"""Depth error by distance: abs_rel, sq_rel, rmse and d1 over the pixels whose ground-truth
depth falls in each range, from a saved depth test run (no model is run).

Writes OUT_DIR/depth_error_by_range.csv and .png.

Examples:
    python tools/analysis_tools/depth_error_by_range.py preds.pkl diag/
    python tools/analysis_tools/depth_error_by_range.py preds.pkl diag/ --edges 0 2 5 10 20 80
"""

import argparse

from pvtv2_dense.cli import ToolParser, cli_entry, refuse_overwrite
from pvtv2_dense.evaluation.analysis import depth_error_by_range


@cli_entry
def main(argv=None):
    parser = ToolParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('results', help='tools/test.py --out pickle of a depth config')
    parser.add_argument('out_dir', help='output folder')
    parser.add_argument('--edges', type=float, nargs='+', help='range edges in metres')
    parser.add_argument('--num-bins', type=int, default=8, help='equal ranges without --edges')
    parser.add_argument('--overwrite', action='store_true', help='write into a non-empty out_dir')
    args = parser.parse_args(argv)
    refuse_overwrite(args.out_dir, 'out_dir', args.overwrite)
    _, paths = depth_error_by_range(args.results, args.out_dir, args.edges, args.num_bins)
    print('\n'.join(f'wrote {p}' for p in paths.values()))


if __name__ == '__main__':
    main()
