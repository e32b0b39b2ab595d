"""Evaluate a checkpoint on a config's test set (segmentation, depth or detection).

Examples:
    python tools/test.py CONFIG work_dirs/run1/iter_600.pth
    python tools/test.py segformer_mit-b0_ade20k-512x512   # a released model by name
    python tools/test.py CONFIG CKPT --show-dir vis/ --out preds.pkl
    python tools/test.py PANOPTIC_CONFIG CKPT --out results/   # COCO panoptic PNGs + JSON
    python tools/test.py CONFIG CKPT --show-dir vis/ --overwrite   # again, over the last run's
    python tools/test.py CONFIG CKPT --tta                  # the config's test-time augmentation
    python tools/test.py CONFIG CKPT --cfg-options test_dataloader.batch_size=4
    bash tools/dist_test.sh CONFIG CKPT 8                   # 8 GPUs (or processes)
    bash tools/slurm_test.sh PARTITION JOB CONFIG CKPT      # SLURM

Metrics are printed, logged and written to WORK_DIR/test_metrics.json (an existing one, like
--out and --show-dir, is written over only with --overwrite; every output is checked writable
before the evaluation starts). The checkpoint must fit the config (same tensor names and shapes)
and hold finite weights, else the tool stops with a one-line error.
With a panoptic config (test evaluator CocoPanopticMetric), ``--out DIR`` writes the predictions
in the COCO panoptic results format: DIR/panoptic.json and one PNG per image in DIR/panoptic/.
"""

import argparse
import json
import os
import os.path as osp
import time

from mmengine.evaluator import DumpResults
from mmengine.runner import Runner

from pvtv2_dense.checkpoint import is_url
from pvtv2_dense.cli import (
    CLIError,
    ToolParser,
    adapt_for_cpu,
    add_compile_arg,
    apply_compile_arg,
    atomic_output,
    check_checkpoint,
    check_finite,
    check_launcher_env,
    check_test_config,
    check_writable,
    cli_entry,
    default_work_dir,
    finish_distributed,
    load_config,
    refuse_overwrite,
)
from pvtv2_dense.evaluation import (
    direct_panoptic_results,
    panoptic_evaluators,
    publish_panoptic_results,
)
from pvtv2_dense.zoo import released_model_args


def parse_args(argv=None):
    parser = ToolParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='config file path, or a released model name (the zoo)')
    parser.add_argument(
        'checkpoint',
        nargs='?',
        help='checkpoint file, http(s):// URL or hf://OWNER/REPO/FILE (cached); a name implies it',
    )
    parser.add_argument('--work-dir', help='where logs and metrics go')
    parser.add_argument(
        '--out',
        help='dump raw predictions to this .pkl file; for a panoptic config, a folder for COCO '
        'panoptic results (panoptic.json + panoptic/*.png)',
    )
    parser.add_argument(
        '--show-dir',
        help='write visualisations (overlays, colourised depth, boxes) and, for depth, '
        '16-bit PNG predictions to this folder',
    )
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='write over what an earlier run left in --show-dir, --out and '
        'WORK_DIR/test_metrics.json (refused otherwise)',
    )
    parser.add_argument('--tta', action='store_true', help="use the config's tta_model/pipeline")
    parser.add_cfg_options()
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    parser.add_argument('--local-rank', '--local_rank', type=int, default=0)
    add_compile_arg(parser)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def enable_visualisation(cfg, show_dir):
    """Turn on the config's visualisation hook and point every output folder at ``show_dir``."""
    hook = cfg.default_hooks.get('visualization')
    if hook is None:
        raise CLIError(f'{cfg.filename} has no default_hooks.visualization to draw with')
    hook.draw = True
    hook.interval = 1
    # A fresh visualizer instance (mmengine reuses one of the same name, with its old save_dir,
    # when main() runs twice in one process).
    cfg.visualizer.name = f'{cfg.visualizer.get("name", "visualizer")}_{time.time_ns()}'
    if 'Det' in hook.type:
        hook.test_out_dir = osp.abspath(show_dir)
    else:
        cfg.visualizer.save_dir = show_dir
    # Task hooks that save predictions (e.g. depth PNGs) follow the convention out_dir=None.
    for custom in cfg.get('custom_hooks', []):
        if 'out_dir' in custom and custom.out_dir is None:
            custom.out_dir = show_dir


def check_outputs(cfg, args, panoptic_out):
    """Refuse, before any evaluation, outputs that exist (without --overwrite) or cannot be
    written: the metrics file, --out (a folder for panoptic results), --show-dir."""
    refuse_overwrite(args.out, '--out', args.overwrite)
    refuse_overwrite(args.show_dir, '--show-dir', args.overwrite)
    refuse_overwrite(metrics_path(cfg), 'the metrics file', args.overwrite)
    check_writable(cfg.work_dir, '--work-dir')
    check_writable(args.out, '--out', folder=bool(panoptic_out))
    check_writable(args.show_dir, '--show-dir')


def metrics_path(cfg):
    return osp.join(cfg.work_dir, 'test_metrics.json')


def build_cfg(args):
    """The config with every command-line option applied."""
    cfg = load_config(args.config, args.cfg_options)
    check_test_config(cfg)
    cfg.launcher = args.launcher
    cfg.work_dir = default_work_dir(cfg, args.config, args.work_dir)
    cfg.load_from = args.checkpoint
    panoptic_out = args.out and not args.out.endswith(('.pkl', '.pickle'))
    if panoptic_out and not panoptic_evaluators(cfg):
        raise CLIError(f'--out {args.out}: the raw predictions file must end with .pkl')
    check_outputs(cfg, args, panoptic_out)
    if panoptic_out:
        # Rank 0 empties the staging folder; the others only write into it.
        direct_panoptic_results(cfg, args.out, clean=int(os.environ.get('RANK', 0)) == 0)
    if args.show_dir:
        enable_visualisation(cfg, args.show_dir)
    if args.tta:
        if 'tta_model' not in cfg or 'tta_pipeline' not in cfg:
            raise CLIError(f'{args.config} defines no tta_model / tta_pipeline')
        cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
        cfg.tta_model.module = cfg.model
        cfg.model = cfg.tta_model
    apply_compile_arg(cfg, args.compile)
    adapt_for_cpu(cfg, args.launcher)
    return cfg


@cli_entry
def main(argv=None):
    args = parse_args(argv)
    check_launcher_env(args.launcher)
    # test.py NAME: a released model's config and converted weights (pvtv2_dense/zoo).
    args.config, args.checkpoint, args.cfg_options = released_model_args(
        args.config, args.checkpoint, args.cfg_options
    )
    if args.checkpoint is None:
        raise CLIError(
            'give a checkpoint after the config (only a released model name implies one)'
        )
    if not is_url(args.checkpoint) and not osp.isfile(args.checkpoint):
        raise CLIError(f'checkpoint {args.checkpoint} does not exist')
    cfg = build_cfg(args)
    runner = Runner.from_cfg(cfg)
    check_finite(check_checkpoint(runner.model, args.checkpoint, args.config), args.checkpoint)
    panoptic_out = args.out and not args.out.endswith(('.pkl', '.pickle'))
    if args.out and not panoptic_out:
        runner.test_evaluator.metrics.append(DumpResults(out_file_path=args.out))
    metrics = runner.test()
    if runner.rank == 0:
        if panoptic_out:
            json_file, png_dir = publish_panoptic_results(args.out)
            print(f'COCO panoptic results written to {json_file} and {png_dir}/')
        path = metrics_path(cfg)
        with atomic_output(path) as tmp, open(tmp, 'w') as f:
            json.dump(metrics, f, indent=2)
        print(f'metrics written to {path}')
    finish_distributed()


if __name__ == '__main__':
    main()
