"""Kill a training run (SIGKILL) after its first checkpoint, resume it, and get the same weights."""

import os
import os.path as osp
import signal
import subprocess
import sys
import time

import pytest
import torch

from pvtv2_dense.checkpoint import read_checkpoint
from tests.helpers.common import ROOT, tiny_seg_cfg

TRAIN = osp.join(ROOT, 'tools', 'train.py')

# Registered in the killed run only: after the checkpoint of iteration `at` is written (this
# hook has the lowest priority, so it runs after CheckpointHook), signal the test and wait to die.
PAUSE_HOOK = """
import os, time
from mmengine.hooks import Hook
from mmengine.registry import HOOKS


@HOOKS.register_module()
class PauseForKill(Hook):
    priority = 'LOWEST'

    def __init__(self, at, marker):
        self.at, self.marker = at, marker

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        if runner.iter + 1 == self.at:
            open(self.marker, 'w').close()
            time.sleep(300)
"""


def start(config, work_dir, *extra, env=None):
    return subprocess.Popen(
        [sys.executable, TRAIN, config, '--work-dir', work_dir, '--deterministic', *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )


def finish(proc, timeout=240):
    out, _ = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, out[-4000:]
    return out


@pytest.mark.slow
def test_sigkill_then_resume_matches_uninterrupted_run(ade_root, tmp_path):
    # Dropout and drop-path stay on: resuming must also restore torch's random stream.
    cfg = tiny_seg_cfg(ade_root, tmp_path / 'unused', max_iters=4)
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    assert cfg.model.backbone.drop_path_rate > 0 and cfg.model.decode_head.dropout_ratio > 0
    config = str(tmp_path / 'tiny_seg.py')
    cfg.dump(config)
    (tmp_path / 'pause_hook.py').write_text(PAUSE_HOOK)
    marker = str(tmp_path / 'checkpoint_written')
    killed_config = str(tmp_path / 'tiny_seg_pause.py')
    with open(killed_config, 'w') as f:
        f.write(
            "_base_ = './tiny_seg.py'\n"
            "custom_imports = dict(imports=['pvtv2_dense', 'pause_hook'], "
            'allow_failed_imports=False)\n'
            f"custom_hooks = [dict(type='PauseForKill', at=2, marker={marker!r})]\n"
        )
    env = dict(os.environ, PYTHONPATH=f'{tmp_path}{os.pathsep}{os.environ.get("PYTHONPATH", "")}')

    interrupted, reference = str(tmp_path / 'interrupted'), str(tmp_path / 'reference')
    victim = start(killed_config, interrupted, env=env)
    straight = start(config, reference)  # the uninterrupted run, alongside
    try:
        deadline = time.time() + 240
        while not osp.exists(marker):
            assert victim.poll() is None, victim.communicate()[0][-4000:]
            assert time.time() < deadline, 'the run never wrote its first checkpoint'
            time.sleep(0.2)
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=30)
    finally:
        if victim.poll() is None:
            victim.kill()
    assert victim.returncode == -signal.SIGKILL
    assert sorted(f for f in os.listdir(interrupted) if f.endswith('.pth')) == ['iter_2.pth']

    out = finish(start(config, interrupted, '--resume'))
    # train.py names the checkpoint it continues (and mmengine loads it).
    assert f'resuming from {osp.join(interrupted, "iter_2.pth")} (iter 2' in out
    assert f'Load checkpoint from {osp.join(interrupted, "iter_2.pth")}' in out
    # train.py says what it does with a work dir that holds a run.
    assert f'note: {interrupted} holds a run' in out and 'resuming from its latest' in out
    finish(straight)

    resumed = read_checkpoint(osp.join(interrupted, 'iter_4.pth'))
    expected = read_checkpoint(osp.join(reference, 'iter_4.pth'))
    assert resumed['meta']['iter'] == expected['meta']['iter'] == 4
    assert resumed['state_dict'].keys() == expected['state_dict'].keys()
    for key, value in expected['state_dict'].items():
        assert torch.equal(resumed['state_dict'][key], value), key
    # The weights did change during the resumed part, so equality is not trivial.
    first = read_checkpoint(osp.join(interrupted, 'iter_2.pth'))['state_dict']
    assert any(not torch.equal(first[k], v) for k, v in expected['state_dict'].items())
