"""What ``tools/train.py`` does around mmengine's Runner: its config checks, the work dir's lock,
and the resume plan (each step one line when it refuses)."""

import contextlib
import sys

from ..engine import use_safe_checkpoint_hook
from ..fileio.outputs import check_run_dir, check_writable
from ..fileio.run_lock import RunLock
from .dist_env import check_launcher_env, launcher_rank
from .run_checks import check_resume, check_seed, check_train_config, resume_source

# Added to every training config that lacks them (TorchRNGStateHook: exact resume).
ALWAYS_HOOKS = ('TorchRNGStateHook', 'FiniteLossHook')


def check_train_inputs(cfg, args):
    """The checks made before anything is built: launcher environment, seed, config values,
    the work dir writable. Also makes the config's checkpoint hook kill-safe and adds
    :data:`ALWAYS_HOOKS`."""
    check_seed(args.seed)
    check_launcher_env(args.launcher)
    check_train_config(cfg)
    check_writable(cfg.work_dir, '--work-dir')
    use_safe_checkpoint_hook(cfg)
    hooks = list(cfg.get('custom_hooks') or [])
    present = {h.get('type') for h in hooks if isinstance(h, dict)}
    cfg.custom_hooks = hooks + [dict(type=t) for t in ALWAYS_HOOKS if t not in present]


@contextlib.contextmanager
def training_run(cfg, args):
    """Hold the work dir's lock (the main process only) for the run, and settle what
    ``--resume`` continues: ``cfg.resume`` and ``cfg.load_from`` are set here.

    Args:
        cfg (Config): the checked config (``cfg.work_dir`` set).
        args (Namespace): ``resume``, ``overwrite``, ``config``, ``launcher``.

    Yields:
        Config: ``cfg``.
    """
    lock = RunLock(cfg.work_dir) if launcher_rank(args.launcher) == 0 else None
    if lock is not None:
        lock.acquire()
    try:
        check_run_dir(cfg.work_dir, args.resume, args.overwrite)
        cfg.resume = False
        if args.resume:
            path = resume_source(cfg.work_dir, args.resume)
            if path is None:
                print(
                    f'note: --resume: {cfg.work_dir} holds no checkpoint to resume; '
                    'starting a new run',
                    file=sys.stderr,
                )
            else:
                print(check_resume(path, args.config), file=sys.stderr)
                cfg.resume, cfg.load_from = True, path
        yield cfg
    finally:
        if lock is not None:
            lock.release()
