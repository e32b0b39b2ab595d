"""Evaluate a checkpoint on a config's test set (segmentation, depth or detection).

Examples:
    python tools/test.py CONFIG work_dirs/run1/iter_600.pth
    python tools/test.py CONFIG CKPT --show-dir vis/ --out preds.pkl
    python tools/test.py CONFIG CKPT --tta                  # the config's test-time augmentation
    bash tools/dist_test.sh CONFIG CKPT 8

Metrics are printed, logged and written to WORK_DIR/test_metrics.json.
"""

import argparse
import json
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.evaluator import DumpResults
from mmengine.runner import Runner


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument('config', help='config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='where logs and metrics go')
    parser.add_argument('--out', help='dump raw predictions to this .pkl file')
    parser.add_argument(
        '--show-dir',
        help='write visualisations (overlays, colourised depth, boxes) and, for depth, '
        '16-bit PNG predictions to this folder',
    )
    parser.add_argument('--tta', action='store_true', help="use the config's tta_model/pipeline")
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config keys')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    parser.add_argument('--local-rank', '--local_rank', type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def enable_visualisation(cfg, show_dir):
    """Turn on the config's visualisation hook and point every output folder at ``show_dir``."""
    hook = cfg.default_hooks.get('visualization')
    if hook is None:
        raise SystemExit(f'error: {cfg.filename} has no default_hooks.visualization to draw with')
    hook.draw = True
    hook.interval = 1
    if 'Det' in hook.type:
        hook.test_out_dir = osp.abspath(show_dir)
    else:
        cfg.visualizer.save_dir = show_dir
    # Task hooks that save predictions (e.g. depth PNGs) follow the convention out_dir=None.
    for custom in cfg.get('custom_hooks', []):
        if 'out_dir' in custom and custom.out_dir is None:
            custom.out_dir = show_dir


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('work_dirs', osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = args.checkpoint
    if args.show_dir:
        enable_visualisation(cfg, args.show_dir)
    if args.tta:
        if 'tta_model' not in cfg or 'tta_pipeline' not in cfg:
            raise SystemExit(f'error: {args.config} defines no tta_model / tta_pipeline')
        cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
        cfg.tta_model.module = cfg.model
        cfg.model = cfg.tta_model
    runner = Runner.from_cfg(cfg)
    if args.out:
        runner.test_evaluator.metrics.append(DumpResults(out_file_path=args.out))
    metrics = runner.test()
    if runner.rank == 0:
        path = osp.join(cfg.work_dir, 'test_metrics.json')
        with open(path, 'w') as f:
            json.dump(metrics, f, indent=2)
        print(f'metrics written to {path}')


if __name__ == '__main__':
    main()
