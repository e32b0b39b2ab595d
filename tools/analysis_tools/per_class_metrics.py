"""Per-class table and bar plot of a saved test run: IoU (segmentation), AP (detection) or PQ
(panoptic), without running the model.

RESULTS is the tools/test.py --out pickle (segmentation, detection) or, for a panoptic config,
the --out folder (panoptic.json + panoptic/). Writes OUT_DIR/per_class_<metric>.csv and .png.
Annotation files default to the config's test_evaluator.

Examples:
    python tools/analysis_tools/per_class_metrics.py CONFIG preds.pkl diag/
    python tools/analysis_tools/per_class_metrics.py PANOPTIC_CONFIG results/ diag/
"""

import argparse

from pvtv2_dense.cli import ToolParser, cli_entry, load_config, refuse_overwrite
from pvtv2_dense.evaluation.analysis.commands import run_per_class


@cli_entry
def main(argv=None):
    parser = ToolParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='the config the results were made with')
    parser.add_argument('results', help='tools/test.py --out pickle, or panoptic --out folder')
    parser.add_argument('out_dir', help='output folder')
    parser.add_argument('--ann-file', help='COCO (panoptic) annotation JSON instead of the config')
    parser.add_argument('--seg-prefix', help='panoptic ground-truth PNG folder instead')
    parser.add_argument('--overwrite', action='store_true', help='write into a non-empty out_dir')
    args = parser.parse_args(argv)
    refuse_overwrite(args.out_dir, 'out_dir', args.overwrite)
    cfg = load_config(args.config)
    paths = run_per_class(cfg, args.results, args.out_dir, args.ann_file, args.seg_prefix)
    print('\n'.join(f'wrote {p}' for p in paths.values()))


if __name__ == '__main__':
    main()
