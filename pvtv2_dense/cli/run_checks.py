"""Checks ``tools/train.py`` and ``tools/test.py`` make before any long work: config values in
their domain, the seed, and what ``--resume`` continues."""

import math
import os.path as osp
import sys

from ..checkpoint.fit import check_resumable, read_checkpoint
from ..errors import CheckpointError, ConfigError

SEED_MAX = 2**32 - 1  # numpy's seed range
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def _number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _need(cfg, key, ok, value, expected):
    if not ok:
        raise ConfigError(f'config {cfg.filename}: {key}={value!r}; expected {expected}')


def check_model(cfg):
    """The config defines a model as a dict with a ``type`` (an empty file defines nothing)."""
    model = cfg.get('model')
    if model is None:
        raise ConfigError(
            f'config {cfg.filename} defines no model (an empty file, or a missing _base_?)'
        )
    _need(cfg, 'model', isinstance(model, dict) and 'type' in model, model, 'a dict with a type')


def check_loader(cfg, name, fix=True):
    """``cfg[name]`` is a dataloader dict with batch_size >= 1 and num_workers >= 0;
    ``persistent_workers=True`` with ``num_workers=0`` (which mmengine cannot build) is turned
    off with a note when ``fix``."""
    loader = cfg.get(name)
    if not isinstance(loader, dict):
        raise ConfigError(
            f'config {cfg.filename}: {name}={loader!r}; expected a dataloader dict '
            '(with batch_size and dataset)'
        )
    batch = loader.get('batch_size', 1)
    _need(cfg, f'{name}.batch_size', isinstance(batch, int) and batch >= 1, batch, 'an int >= 1')
    workers = loader.get('num_workers', 0)
    _need(
        cfg,
        f'{name}.num_workers',
        isinstance(workers, int) and workers >= 0,
        workers,
        'an int >= 0',
    )
    if loader.get('persistent_workers') and workers == 0 and fix:
        loader['persistent_workers'] = False
        print(
            f'note: {name}.num_workers=0: persistent_workers set to False (it needs workers)',
            file=sys.stderr,
        )


def check_train_values(cfg):
    """Iterations or epochs, validation interval and learning rate in their domain.

    Raises:
        ConfigError: naming the config file and the key.
    """
    train_cfg = cfg.get('train_cfg')
    _need(cfg, 'train_cfg', isinstance(train_cfg, dict), train_cfg, 'a dict (the training loop)')
    for key in ('max_iters', 'max_epochs', 'val_interval'):
        if key in train_cfg:
            value = train_cfg[key]
            ok = isinstance(value, int) and not isinstance(value, bool) and value >= 1
            _need(cfg, f'train_cfg.{key}', ok, value, 'an int >= 1')
    optimizer = (cfg.get('optim_wrapper') or {}).get('optimizer')
    if isinstance(optimizer, dict) and 'lr' in optimizer:
        lr = optimizer['lr']
        ok = _number(lr) and math.isfinite(lr) and lr > 0
        _need(cfg, 'optim_wrapper.optimizer.lr', ok, lr, 'a finite number > 0')


def check_train_config(cfg):
    """Every check a training run makes on its config (see the functions above)."""
    check_model(cfg)
    check_loader(cfg, 'train_dataloader')
    for name in LOADERS[1:]:
        if cfg.get(name) is not None:
            check_loader(cfg, name)
    check_train_values(cfg)


def check_test_config(cfg):
    """Every check an evaluation makes on its config."""
    check_model(cfg)
    check_loader(cfg, 'test_dataloader')


def check_seed(seed):
    """``--seed`` in numpy's range (0 .. 2**32-1)."""
    if seed is not None and not 0 <= seed <= SEED_MAX:
        raise ConfigError(f'--seed {seed}: expected an integer from 0 to {SEED_MAX}')


def resume_source(work_dir, resume):
    """The checkpoint ``--resume`` continues, or None when there is nothing to resume.

    Args:
        work_dir (str): the run's work dir.
        resume (str): ``'auto'`` (its ``last_checkpoint``) or a checkpoint path.

    Raises:
        CheckpointError: ``resume`` names a file that does not exist, or ``last_checkpoint``
            names one.
    """
    if resume != 'auto':
        if not osp.isfile(resume):
            raise CheckpointError(f'--resume checkpoint {resume} does not exist')
        return resume
    record = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(record):
        return None
    try:
        with open(record) as f:
            path = f.read().strip()
    except (OSError, UnicodeDecodeError) as err:
        raise CheckpointError(f'{record} cannot be read ({err}); pass --resume PATH') from None
    if not osp.isfile(path):
        raise CheckpointError(
            f'{record} names {path or "nothing"}, which does not exist; pass --resume PATH '
            'with the checkpoint to continue'
        )
    return path


def check_resume(path, config_path):
    """Read ``path`` and refuse it unless ``--resume`` can continue it (see
    :func:`~pvtv2_dense.checkpoint.fit.check_resumable`); returns a line saying what resumes."""
    ckpt = read_checkpoint(path)
    check_resumable(ckpt, path, config_path)
    meta = ckpt.get('meta') or {}
    where = ', '.join(f'{k} {meta[k]}' for k in ('iter', 'epoch') if k in meta)
    return f'resuming from {path}' + (f' ({where})' if where else '')
