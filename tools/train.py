"""Train a model from a config (segmentation, depth or detection: the config's scope decides).

Examples:
    python tools/train.py configs/quickstart/segformer_pvtv2-b0_1xb8-600iter_synthetic-ade-64x64.py
    python tools/train.py CONFIG --work-dir work_dirs/run1 --resume          # continue latest
    python tools/train.py CONFIG --resume work_dirs/run1/iter_200.pth        # continue from a file
    python tools/train.py CONFIG --work-dir work_dirs/run1 --overwrite       # new run, same dir
    python tools/train.py CONFIG --amp --cfg-options train_dataloader.batch_size=4
    python tools/train.py CONFIG --seed 0 --deterministic                    # reproducible run
    python tools/train.py CONFIG --compile                                   # torch.compile
    bash tools/dist_train.sh CONFIG 8                                        # 8 GPUs (or processes)
    bash tools/slurm_train.sh PARTITION JOB CONFIG WORK_DIR                  # SLURM

Without CUDA, distributed runs use the gloo backend and SyncBN becomes BN (see
pvtv2_dense/cli/dist_env.py). Checkpoints also store torch's random state (TorchRNGStateHook, in
every config's runtime and added to configs that lack it), so a resumed run continues exactly
where it stopped (num_workers=0, --deterministic). Checkpoints are written kill-safe
(SafeCheckpointHook), one run holds a work dir at a time (WORK_DIR/.run.lock), and a non-finite
loss stops the run (FiniteLossHook); see docs/reliability.md. A work dir that holds checkpoints
of an earlier run is resumed (--resume) or written over (--overwrite), never silently. Input errors
(config, data, checkpoint, arguments) end with one 'error: ...' line, exit status 2; --debug
shows their traceback.
"""

import argparse
import os

from mmengine.runner import Runner

from pvtv2_dense.cli import (
    ToolParser,
    adapt_for_cpu,
    add_compile_arg,
    apply_compile_arg,
    check_checkpoint,
    check_train_inputs,
    cli_entry,
    default_work_dir,
    finish_distributed,
    load_config,
    training_run,
)


def parse_args(argv=None):
    parser = ToolParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
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
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='start a new run in a work dir that holds an earlier one (refused otherwise)',
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
    parser.add_cfg_options(
        help='override config keys, e.g. train_cfg.max_iters=100 model.backbone.arch=b1; '
        'the parent of each key must exist in the config'
    )
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    # torchrun sets LOCAL_RANK; older launchers pass --local-rank / --local_rank.
    parser.add_argument('--local-rank', '--local_rank', type=int, default=0)
    add_compile_arg(parser)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def build_cfg(args):
    """The config with every command-line option applied."""
    cfg = load_config(args.config, args.cfg_options)
    cfg.launcher = args.launcher
    cfg.work_dir = default_work_dir(cfg, args.config, args.work_dir)
    check_train_inputs(cfg, args)
    if args.amp:
        import torch

        if not torch.cuda.is_available():
            # mmengine's AmpOptimWrapper refuses a CPU; PyTorch's CPU autocast runs bfloat16.
            print('note: --amp without a GPU: bfloat16 CPU autocast (CpuBf16OptimWrapper)')
            cfg.optim_wrapper.type = 'CpuBf16OptimWrapper'
            cfg.optim_wrapper.pop('loss_scale', None)
            cfg.optim_wrapper.pop('dtype', None)
        else:
            if cfg.optim_wrapper.get('type', 'OptimWrapper') == 'AmpOptimWrapper':
                print('note: the config already uses AmpOptimWrapper')
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.auto_scale_lr:
        cfg.setdefault('auto_scale_lr', dict(base_batch_size=16))
        cfg.auto_scale_lr.enable = True
    if args.seed is not None or args.deterministic:
        randomness = cfg.get('randomness', {})
        if args.seed is not None:
            randomness['seed'] = args.seed
        randomness['deterministic'] = args.deterministic or randomness.get('deterministic', False)
        cfg.randomness = randomness
    apply_compile_arg(cfg, args.compile)
    adapt_for_cpu(cfg, args.launcher)
    return cfg


@cli_entry
def main(argv=None):
    args = parse_args(argv)
    cfg = build_cfg(args)
    with training_run(cfg, args):
        runner = Runner.from_cfg(cfg)
        if cfg.resume:
            # Resuming needs an exact fit; plain load_from (fine-tuning) keeps mmengine's warnings.
            check_checkpoint(runner.model, cfg.load_from, args.config)
        runner.train()
    finish_distributed()


if __name__ == '__main__':
    main()
