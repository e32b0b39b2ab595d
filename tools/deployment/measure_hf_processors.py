"""Measure how far transformers.pipeline on an exported folder is from our own inference, on
scikit-image photos whose sizes the exported image processor cannot reproduce exactly.

Builds the shipped b0 SegFormer (ADE20K) and GLPN (NYU) configs with random weights (seed 0,
every parameter + 0.05 N(0, 1), trained-with-HF's-eps so the export is exact), exports each
with export_hf, and prints one table row per photo: segmentation labels that agree, depth mean
relative difference. The notes export_hf.py prints quote these numbers.

Example:
    python tools/deployment/measure_hf_processors.py
"""

import argparse
import sys

from pvtv2_dense.cli import ToolParser, cli_entry


def parse_args(argv=None):
    parser = ToolParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--work-dir', default='work_dirs/hf_processors', help='scratch folder')
    return parser.parse_args(argv)


@cli_entry
def main(argv=None):
    args = parse_args(argv)
    from pvtv2_dense.deploy.hf_measure import measure_processors

    print('| task | photo | ours | agreement |')
    print('|---|---|---|---|')
    for row in measure_processors(args.work_dir):
        print('| ' + ' | '.join(str(v) for v in row) + ' |')
    return 0


if __name__ == '__main__':
    sys.exit(main())
