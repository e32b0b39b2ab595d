"""Fault injection: ``tools/train.py`` is SIGKILLed at many points, inside saves included, resumed
after each kill, and ends bit-identical (weights and optimizer state) to an uninterrupted run.

The kill points live in a test subclass of SafeCheckpointHook; ``PVTV2_KILL_AT=point:iteration``
arms one per run (the forked child reads the variable and SIGKILLs itself there):
``iter`` (an iteration done, its checkpoint not begun), ``partial`` (half of the temporary
file written), ``renamed`` (the checkpoint in place, last_checkpoint not moved yet), ``latest``
(last_checkpoint moved, the older checkpoint not removed yet). ``max_keep_ckpts=1``: after a
kill mid-save the previous complete checkpoint is still the one --resume finds.
"""

import os
import os.path as osp
import signal

import pytest
import torch

from pvtv2_dense.checkpoint import read_checkpoint
from pvtv2_dense.engine import SafeCheckpointHook
from pvtv2_dense.fileio.outputs import temp_name
from pvtv2_dense.registry import register_hook
from tests.helpers.bad_input_workspace import run_tool
from tests.helpers.common import tiny_seg_cfg

ENV = 'PVTV2_KILL_AT'


def _armed(point, step):
    return os.environ.get(ENV) == f'{point}:{step}'


def _die():
    os.kill(os.getpid(), signal.SIGKILL)


@register_hook()
class KillingCheckpointHook(SafeCheckpointHook):
    """SafeCheckpointHook that SIGKILLs its process at the point ``PVTV2_KILL_AT`` names."""

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        if _armed('iter', runner.iter + 1):
            _die()
        super().after_train_iter(runner, batch_idx, data_batch, outputs)

    def _write(self, runner, path, meta):
        if _armed('partial', runner.iter + 1):
            runner.save_checkpoint(self.out_dir, '.scratch.pth', meta=meta, **self._kw())
            with open(osp.join(self.out_dir, '.scratch.pth'), 'rb') as f:
                data = f.read()
            with open(temp_name(path), 'wb') as f:
                f.write(data[: len(data) // 2])
                f.flush()
                os.fsync(f.fileno())
            os.remove(osp.join(self.out_dir, '.scratch.pth'))
            _die()
        super()._write(runner, path, meta)

    def _move_latest(self, runner, path):
        if _armed('renamed', runner.iter + 1):
            _die()
        super()._move_latest(runner, path)

    def _remove(self, runner, names):
        if names and _armed('latest', runner.iter + 1):
            _die()
        super()._remove(runner, names)


# (kill point, the checkpoint last_checkpoint names afterwards, the .pth files left)
KILLS = [
    ('partial:2', 'iter_1.pth', ['iter_1.pth']),
    ('iter:3', 'iter_2.pth', ['iter_2.pth']),
    ('renamed:3', 'iter_2.pth', ['iter_2.pth', 'iter_3.pth']),
    ('latest:4', 'iter_4.pth', ['iter_3.pth', 'iter_4.pth']),
    ('partial:6', 'iter_5.pth', ['iter_5.pth']),
]


def _tensors_equal(a, b, where=''):
    """Compare nested dicts/lists of tensors exactly; return the first differing path or None."""
    if torch.is_tensor(a):
        return None if torch.is_tensor(b) and torch.equal(a, b) else where
    if isinstance(a, dict):
        if not isinstance(b, dict) or a.keys() != b.keys():
            return where
        for k in a:
            bad = _tensors_equal(a[k], b[k], f'{where}.{k}')
            if bad:
                return bad
        return None
    if isinstance(a, (list, tuple)):
        if len(a) != len(b):
            return where
        for i, (x, y) in enumerate(zip(a, b)):
            bad = _tensors_equal(x, y, f'{where}[{i}]')
            if bad:
                return bad
        return None
    return None if a == b else where


def _train(config, work, *extra, kill=None):
    os.environ.pop(ENV, None)
    if kill:
        os.environ[ENV] = kill
    try:
        args = [config, '--work-dir', work, '--deterministic', '--seed', '0', *extra]
        return run_tool('train.py', args, cwd=osp.dirname(config))
    finally:
        os.environ.pop(ENV, None)


def _load(path):
    return read_checkpoint(path)  # safe loading, as the tools do


@pytest.mark.slow  # seven short training runs
def test_sigkill_anywhere_then_resume_matches_uninterrupted_run(ade_root, tmp_path):
    cfg = tiny_seg_cfg(ade_root, tmp_path / 'unused', max_iters=6)
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    cfg.default_hooks.checkpoint = dict(
        type='KillingCheckpointHook', by_epoch=False, interval=1, max_keep_ckpts=1
    )
    config = str(tmp_path / 'tiny_seg.py')
    cfg.dump(config)
    reference, work = str(tmp_path / 'reference'), str(tmp_path / 'killed')
    status, _, err = _train(config, reference)
    assert status == 0, err[-3000:]

    first = None  # the weights of the first checkpoint
    for i, (kill, latest, left) in enumerate(KILLS):
        status, _, err = _train(config, work, *(['--resume'] if i else []), kill=kill)
        assert status == -signal.SIGKILL, f'{kill}: exit {status}\n{err[-3000:]}'
        if i:  # the killed run before it left its lock
            assert 'warning: ' in err and 'taking over the lock' in err, err[-2000:]
        with open(osp.join(work, 'last_checkpoint')) as f:
            named = f.read().strip()
        assert osp.basename(named) == latest, kill
        # What last_checkpoint names is complete (half a file would not load).
        ckpt = _load(named)
        assert ckpt['meta']['iter'] == int(latest[5:-4]), kill
        first = ckpt['state_dict'] if first is None else first
        assert sorted(f for f in os.listdir(work) if f.endswith('.pth') and f[0] != '.') == left

    status, _, err = _train(config, work, '--resume')
    assert status == 0, err[-3000:]
    assert 'resuming from ' + osp.join(work, 'iter_5.pth') in err
    # Leftovers of the kills are gone: the half temporary file, the unremoved iter_3.pth.
    assert sorted(f for f in os.listdir(work) if f.endswith('.pth')) == ['iter_6.pth']
    got, expected = _load(osp.join(work, 'iter_6.pth')), _load(osp.join(reference, 'iter_6.pth'))
    assert got['meta']['iter'] == expected['meta']['iter'] == 6
    for key in ('state_dict', 'optimizer'):
        assert _tensors_equal(got[key], expected[key], key) is None, key
    # The resumed parts did train: the weights moved on from the first checkpoint.
    assert _tensors_equal(got['state_dict'], first, 'state_dict') is not None
