"""Training and validation curves of one or several work dirs in one plot.

Reads WORK_DIR/<latest run>/vis_data/scalars.json of each work dir (or a scalars.json given
directly); plots loss and every validation metric (or --keys), one panel per key, one line per
work dir. Writes OUT_DIR/curves.png and curves.csv.

Examples:
    python tools/analysis_tools/analyze_logs.py work_dirs/run1 work_dirs/run2 --out-dir cmp/
    python tools/analysis_tools/analyze_logs.py work_dirs/run1 --keys loss mIoU --out-dir c/
"""

import argparse

from pvtv2_dense.cli import ToolParser, cli_entry, refuse_overwrite
from pvtv2_dense.evaluation.analysis import analyze_logs


@cli_entry
def main(argv=None):
    parser = ToolParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('work_dirs', nargs='+', help='work dirs or scalars.json files')
    parser.add_argument('--out-dir', required=True, help='output folder')
    parser.add_argument('--keys', nargs='+', help='scalars to plot (default: loss + metrics)')
    parser.add_argument('--labels', nargs='+', help='legend names, one per work dir')
    parser.add_argument('--overwrite', action='store_true', help='write into a non-empty out_dir')
    args = parser.parse_args(argv)
    refuse_overwrite(args.out_dir, '--out-dir', args.overwrite)
    _, paths = analyze_logs(args.work_dirs, args.out_dir, args.keys, args.labels)
    print('\n'.join(f'wrote {p}' for p in paths.values()))


if __name__ == '__main__':
    main()
