import os
import os.path as osp

import pytest
import torch
from mmengine.hooks import Hook
from mmengine.runner import CheckpointLoader, Runner

from pvtv2_dense.checkpoint import UnsafeCheckpointError
from pvtv2_dense.errors import CheckpointError
from tests.helpers.common import tiny_seg_cfg


class _Payload:
    """Unpickling this would create a file: the test checks that it never happens."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}',))


def test_malicious_checkpoint_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / 'pwned'
    ckpt = tmp_path / 'evil.pth'
    torch.save({'state_dict': {'w': torch.zeros(1)}, 'meta': _Payload(marker)}, ckpt)
    with pytest.raises(UnsafeCheckpointError) as info:
        CheckpointLoader.load_checkpoint(str(ckpt), map_location='cpu')
    assert str(ckpt) in str(info.value)
    assert 'system' in str(info.value)
    assert not marker.exists()


def test_missing_checkpoint_names_the_file(tmp_path):
    with pytest.raises(CheckpointError, match='nope.pth does not exist'):
        CheckpointLoader.load_checkpoint(str(tmp_path / 'nope.pth'))


class _Probe(Hook):
    """Records the state right after resuming, and counts the iterations actually run."""

    def __init__(self):
        self.start_iter = None
        self.exp_avg = None
        self.ran = 0

    def before_train(self, runner):
        self.start_iter = runner.iter
        state = runner.optim_wrapper.optimizer.state_dict()['state']
        self.exp_avg = state[0]['exp_avg'].clone() if state else None

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.ran += 1


@pytest.mark.slow
def test_training_saves_and_resume_continues(ade_root, tmp_path):
    work = tmp_path / 'work'
    Runner.from_cfg(tiny_seg_cfg(ade_root, work, max_iters=4)).train()
    ckpt = osp.join(work, 'iter_4.pth')
    assert osp.isfile(ckpt)
    # mmengine's own loader path, weights_only=True underneath.
    saved = CheckpointLoader.load_checkpoint(ckpt, map_location='cpu')
    assert saved['meta']['iter'] == 4
    assert 'message_hub' in saved

    runner = Runner.from_cfg(tiny_seg_cfg(ade_root, work, max_iters=6, resume=True))
    probe = _Probe()
    runner.register_hook(probe)
    runner.train()
    assert probe.start_iter == 4
    assert probe.ran == 2
    assert runner.iter == 6
    torch.testing.assert_close(probe.exp_avg, saved['optimizer']['state'][0]['exp_avg'])


class _GetattrEscape:
    """getattr is how pickles walk from an allowed object to eval: only HistoryBuffer's public
    methods may come through it."""

    def __reduce__(self):
        from mmengine.logging import HistoryBuffer

        return (getattr, (HistoryBuffer, '__init__'))


def test_getattr_walks_are_refused(tmp_path):
    ckpt = tmp_path / 'walk.pth'
    torch.save({'meta': _GetattrEscape()}, ckpt)
    with pytest.raises(UnsafeCheckpointError, match='walk.pth'):
        CheckpointLoader.load_checkpoint(str(ckpt), map_location='cpu')
