"""Make a config's distributed settings work where there is no GPU (CPU runs use gloo).

Configs say ``env_cfg.dist_cfg.backend='nccl'`` for GPU clusters. mmengine's launchers also call
``torch.cuda.set_device``, wrap the model in DDP with ``device_ids=[LOCAL_RANK]`` and keep SyncBN,
none of which works on CPU. :func:`adapt_for_cpu` rewrites those settings when CUDA is absent and
starts the gloo process group itself from the launcher's environment variables, so mmengine's
Runner finds it initialised and goes on unchanged.
"""

import os
import subprocess

import torch
import torch.distributed as dist

from ..errors import ConfigError

# What each launcher sets, and how to start a run with it.
LAUNCHER_ENV = {
    'pytorch': (
        ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT'),
        'start it with torchrun or tools/dist_train.sh CONFIG GPUS (dist_test.sh for tests)',
    ),
    'slurm': (
        ('SLURM_PROCID', 'SLURM_NTASKS', 'SLURM_NODELIST'),
        'start it with srun, e.g. tools/slurm_train.sh PARTITION JOB CONFIG WORK_DIR',
    ),
    'mpi': (
        ('OMPI_COMM_WORLD_RANK', 'OMPI_COMM_WORLD_SIZE'),
        'start it with mpirun (Open MPI)',
    ),
}


def launcher_rank(launcher):
    """This process's global rank as the launcher set it (0 without a launcher)."""
    name = {'pytorch': 'RANK', 'slurm': 'SLURM_PROCID', 'mpi': 'OMPI_COMM_WORLD_RANK'}.get(launcher)
    return int(os.environ.get(name, 0)) if name else 0


def check_launcher_env(launcher):
    """Raise one line naming the first variable ``--launcher`` needs and the environment lacks.

    Args:
        launcher (str): 'none', 'pytorch', 'slurm' or 'mpi'.

    Raises:
        ConfigError: a variable the launcher sets is missing (the tool was not started by it).
    """
    names, how = LAUNCHER_ENV.get(launcher, ((), ''))
    missing = [n for n in names if n not in os.environ]
    if missing:
        raise ConfigError(
            f'--launcher {launcher} needs the environment variable {missing[0]}'
            + (f' (and {", ".join(missing[1:])})' if missing[1:] else '')
            + f', which is not set: {how}, or drop --launcher for one process'
        )


def _replace_sync_bn(node):
    """Turn every synchronised batch norm config under ``node`` into plain BN, in place (DDP
    refuses SyncBatchNorm layers, ours included, in CPU modules)."""
    if isinstance(node, dict):
        if node.get('type') in ('SyncBN', 'MMSyncBN', 'LocalSyncBN'):
            node['type'] = 'BN'
        for value in node.values():
            _replace_sync_bn(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            _replace_sync_bn(value)


def _env_from_launcher(launcher):
    """Set RANK / WORLD_SIZE / LOCAL_RANK / MASTER_* from the launcher's own variables."""
    env = os.environ
    if launcher == 'slurm':
        env['RANK'] = env['SLURM_PROCID']
        env['WORLD_SIZE'] = env['SLURM_NTASKS']
        env['LOCAL_RANK'] = env.get('SLURM_LOCALID', '0')
        if 'MASTER_ADDR' not in env:
            nodes = env['SLURM_NODELIST']
            env['MASTER_ADDR'] = subprocess.getoutput(
                f'scontrol show hostname {nodes} | head -n1'
            ).strip()
    elif launcher == 'mpi':
        env['RANK'] = env['OMPI_COMM_WORLD_RANK']
        env['WORLD_SIZE'] = env['OMPI_COMM_WORLD_SIZE']
        env['LOCAL_RANK'] = env.get('OMPI_COMM_WORLD_LOCAL_RANK', '0')
        env.setdefault('MASTER_ADDR', '127.0.0.1')
    env.setdefault('MASTER_PORT', '29500')


def adapt_for_cpu(cfg, launcher):
    """Adjust ``cfg`` (in place) for a CPU run; start gloo if ``launcher`` is distributed.

    Does nothing when CUDA is available.

    Args:
        cfg (Config): the full config.
        launcher (str): 'none', 'pytorch', 'slurm' or 'mpi'.

    Returns:
        bool: True when the config was adapted (no CUDA).
    """
    if torch.cuda.is_available():
        return False
    _replace_sync_bn(cfg.model)
    if launcher == 'none':
        return True
    env_cfg = cfg.setdefault('env_cfg', {})
    dist_cfg = env_cfg.setdefault('dist_cfg', {})
    dist_cfg['backend'] = 'gloo'
    # DDP on CPU modules must not get device_ids.
    wrapper = cfg.get('model_wrapper_cfg') or dict(
        type='MMDistributedDataParallel',
        broadcast_buffers=False,
        find_unused_parameters=cfg.get('find_unused_parameters', False),
    )
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper
    if not dist.is_initialized():
        _env_from_launcher(launcher)
        kwargs = {k: v for k, v in dist_cfg.items() if k != 'backend'}
        if 'timeout' in kwargs:
            from datetime import timedelta

            kwargs['timeout'] = timedelta(seconds=kwargs['timeout'])
        dist.init_process_group(backend='gloo', **kwargs)
    return True


def finish_distributed():
    """End a distributed run cleanly: every rank waits for the others, then leaves the process
    group (a rank that exits with gloo's threads still running aborts, SIGABRT)."""
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
