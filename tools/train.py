"""Train a model from a config (segmentation, depth or detection: the config's scope decides).

Examples:
    python tools/train.py configs/quickstart/segformer_pvtv2-b0_1xb8-600iter_synthetic-ade-64x64.py
    python tools/train.py CONFIG --work-dir work_dirs/run1 --resume          # continue latest
    python tools/train.py CONFIG --amp --cfg-options train_dataloader.batch_size=4
    bash tools/dist_train.sh CONFIG 8                                      # 8 GPUs
"""

import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.runner import Runner


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument('config', help='config file path')
    parser.add_argument('--work-dir', help='where logs and checkpoints go')
    parser.add_argument(
        '--resume',
        nargs='?',
        const='auto',
        default=None,
        help="resume: 'auto' (the default when given without a value) picks the latest "
        'checkpoint in the work dir; a path resumes from that checkpoint',
    )
    parser.add_argument('--amp', action='store_true', help='mixed-precision training')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help="scale the lr by (GPUs x batch per GPU) / the config's auto_scale_lr.base_batch_size",
    )
    parser.add_argument('--seed', type=int, default=None, help='random seed')
    parser.add_argument(
        '--deterministic', action='store_true', help='deterministic algorithms (slower)'
    )
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config keys, e.g. train_cfg.max_iters=100 model.backbone.arch=b1',
    )
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    # torchrun sets LOCAL_RANK; older launchers pass --local-rank / --local_rank.
    parser.add_argument('--local-rank', '--local_rank', type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


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
    if args.amp:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume:
        cfg.resume, cfg.load_from = True, args.resume
    if args.auto_scale_lr:
        cfg.setdefault('auto_scale_lr', dict(base_batch_size=16))
        cfg.auto_scale_lr.enable = True
    if args.seed is not None or args.deterministic:
        randomness = cfg.get('randomness', {})
        if args.seed is not None:
            randomness['seed'] = args.seed
        randomness['deterministic'] = args.deterministic or randomness.get('deterministic', False)
        cfg.randomness = randomness
    runner = Runner.from_cfg(cfg)
    runner.train()


if __name__ == '__main__':
    main()
