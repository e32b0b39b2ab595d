"""Kill-safe checkpoints (SafeCheckpointHook), the atomic writer under them, and the hook that
stops at a non-finite loss; a fake runner keeps these fast (the real kills are in
tests/training/test_kill_resume.py)."""

import glob
import os
import os.path as osp
import re
from types import SimpleNamespace

import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MessageHub, MMLogger
from mmengine.registry import HOOKS, init_default_scope

from pvtv2_dense.engine import FiniteLossHook, SafeCheckpointHook, use_safe_checkpoint_hook
from pvtv2_dense.errors import ConfigError, OutputError
from pvtv2_dense.fileio import atomic_output, stale_temps, write_text_atomically
from tests.helpers.common import ROOT


class FakeRunner(SimpleNamespace):
    """What the checkpoint hook reads of mmengine's Runner; ``events`` logs every file step."""

    def __init__(self, work_dir, name):
        super().__init__(
            work_dir=str(work_dir),
            model=torch.nn.Linear(2, 2),
            message_hub=MessageHub.get_instance(f'safe_ckpt_{name}'),
            logger=MMLogger.get_instance(f'safe_ckpt_{name}'),
            iter=0,
            epoch=0,
            events=[],
        )

    def save_checkpoint(self, out_dir, filename, meta=None, **kwargs):
        path = osp.join(out_dir, filename)
        torch.save(dict(state_dict=self.model.state_dict(), meta=meta), path)
        self.events.append(('write', filename, sorted(os.listdir(out_dir))))


class RecordingHook(SafeCheckpointHook):
    def _move_latest(self, runner, path):
        runner.events.append(('latest', osp.basename(path), sorted(os.listdir(self.out_dir))))
        super()._move_latest(runner, path)

    def _remove(self, runner, names):
        runner.events.append(('remove', names, sorted(os.listdir(self.out_dir))))
        super()._remove(runner, names)


def _train(hook, runner, iters):
    for _ in range(iters):
        hook.after_train_iter(runner, runner.iter)
        runner.iter += 1


def _latest(work_dir):
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


def test_previous_checkpoint_removed_only_after_the_new_one_and_last_checkpoint(tmp_path):
    runner = FakeRunner(tmp_path, 'order')
    hook = RecordingHook(interval=1, by_epoch=False, max_keep_ckpts=1)
    hook.before_train(runner)
    _train(hook, runner, 2)
    write2, latest2, remove2 = runner.events[-3:]
    # iter_1.pth is still there while iter_2.pth is written (under a temporary name) ...
    assert write2[0] == 'write' and write2[1].startswith('.iter_2.') and 'iter_1.pth' in write2[2]
    # ... and when last_checkpoint moves to the complete iter_2.pth ...
    assert latest2 == (
        'latest',
        'iter_2.pth',
        sorted(['iter_1.pth', 'iter_2.pth', 'last_checkpoint']),
    )
    # ... and it goes last.
    assert remove2[:2] == ('remove', ['iter_1.pth'])
    assert sorted(os.listdir(tmp_path)) == ['iter_2.pth', 'last_checkpoint']
    assert _latest(tmp_path) == osp.join(str(tmp_path), 'iter_2.pth')
    assert runner.message_hub.get_info('keep_ckpt_ids') == [2]


def test_a_save_that_fails_midway_leaves_the_previous_checkpoint_latest(tmp_path):
    runner = FakeRunner(tmp_path, 'midway')
    hook = SafeCheckpointHook(interval=1, by_epoch=False, max_keep_ckpts=1)
    hook.before_train(runner)
    _train(hook, runner, 1)

    def half_then_die(out_dir, filename, **kwargs):
        with open(osp.join(out_dir, filename), 'wb') as f:
            f.write(b'PK\x03\x04 half a checkpoint')
        raise KeyboardInterrupt  # stands for the kill

    runner.save_checkpoint = half_then_die
    with pytest.raises(KeyboardInterrupt):
        _train(hook, runner, 1)
    assert sorted(os.listdir(tmp_path)) == ['iter_1.pth', 'last_checkpoint']
    assert _latest(tmp_path) == osp.join(str(tmp_path), 'iter_1.pth')
    assert torch.load(_latest(tmp_path), weights_only=True)['meta']['iter'] == 1


def test_a_new_best_checkpoint_is_complete_before_the_old_best_goes(tmp_path):
    runner = FakeRunner(tmp_path, 'best')
    hook = SafeCheckpointHook(interval=100, by_epoch=False, save_best='acc', rule='greater')
    hook.before_train(runner)
    for it, acc in ((1, 0.5), (2, 0.4), (3, 0.7)):
        runner.iter = it
        hook.after_val_epoch(runner, dict(acc=acc))
    writes = [e for e in runner.events if e[0] == 'write']
    assert [w[1].split('.')[1] for w in writes] == ['best_acc_iter_1', 'best_acc_iter_3']
    # The new best was written under a temporary name while the old best still existed.
    assert writes[1][1].startswith('.best_acc_iter_3.') and 'best_acc_iter_1.pth' in writes[1][2]
    assert sorted(os.listdir(tmp_path)) == ['best_acc_iter_3.pth']
    assert runner.save_checkpoint.__func__ is FakeRunner.save_checkpoint  # patch undone
    assert 'remove' not in vars(hook.file_backend)


def test_leftover_temporary_checkpoints_are_removed_when_a_run_starts(tmp_path):
    left = [tmp_path / '.iter_4.12345.tmp.pth', tmp_path / '.last_checkpoint.12345.tmp']
    for path in left:
        path.write_bytes(b'half')
    (tmp_path / 'iter_2.pth').write_bytes(b'kept')
    (tmp_path / '.notes.12345.tmp.txt').write_text('not ours to remove')
    assert set(map(str, left)) < set(stale_temps(str(tmp_path)))
    SafeCheckpointHook(interval=1, by_epoch=False).before_train(FakeRunner(tmp_path, 'stale'))
    assert sorted(os.listdir(tmp_path)) == ['.notes.12345.tmp.txt', 'iter_2.pth']


def test_non_finite_weights_are_never_saved(tmp_path):
    runner = FakeRunner(tmp_path, 'nan_weights')
    hook = SafeCheckpointHook(interval=1, by_epoch=False, max_keep_ckpts=1)
    hook.before_train(runner)
    _train(hook, runner, 1)
    with torch.no_grad():
        runner.model.bias[1] = float('nan')
    with pytest.raises(ConfigError, match=r'iteration 2: weight bias is not finite.*iter_1\.pth'):
        _train(hook, runner, 1)
    assert sorted(os.listdir(tmp_path)) == ['iter_1.pth', 'last_checkpoint']
    assert _latest(tmp_path).endswith('iter_1.pth')


@pytest.mark.parametrize('loss', [float('nan'), float('inf'), torch.tensor(float('nan'))])
def test_a_non_finite_loss_stops_training_naming_the_iteration(tmp_path, loss):
    runner = FakeRunner(tmp_path, 'nan_loss')
    runner.iter = 6
    runner.message_hub.update_info('last_ckpt', 'work/iter_6.pth')
    outputs = dict(loss=loss, decode_loss_ce=torch.tensor(float('nan')), acc=torch.tensor(3.0))
    with pytest.raises(ConfigError) as err:
        FiniteLossHook().after_train_iter(runner, 0, outputs=outputs)
    text = str(err.value)
    assert text.startswith('iteration 7: the loss is ') and 'decode_loss_ce=nan' in text
    assert 'stays work/iter_6.pth' in text and 'acc' not in text
    FiniteLossHook().after_train_iter(runner, 0, outputs=dict(loss=torch.tensor(0.5)))


def test_finite_loss_hook_runs_before_the_checkpoint_hook():
    from mmengine.runner.priority import get_priority

    # Lower number, earlier call: the run stops before this iteration's save.
    assert get_priority(FiniteLossHook.priority) < get_priority(SafeCheckpointHook.priority)


def test_atomic_output_keeps_the_old_file_when_writing_fails(tmp_path):
    target = tmp_path / 'model.pth'
    target.write_bytes(b'old')
    with pytest.raises(RuntimeError):
        with atomic_output(str(target)) as tmp:
            with open(tmp, 'wb') as f:
                f.write(b'new, half')
            raise RuntimeError('interrupted')
    assert target.read_bytes() == b'old' and os.listdir(tmp_path) == ['model.pth']
    write_text_atomically('new', str(target))
    assert target.read_text() == 'new' and os.listdir(tmp_path) == ['model.pth']


def test_atomic_output_names_a_folder_it_cannot_create(tmp_path):
    (tmp_path / 'file').write_text('x')
    with pytest.raises(OutputError, match='file'):
        with atomic_output(str(tmp_path / 'file' / 'model.pth')):
            pass


def _checkpoint_hook_cfg(cfg):
    # mmengine's Runner.register_default_hooks: its defaults, updated key by key with the config's.
    hooks = dict(checkpoint=dict(type='CheckpointHook', interval=1))
    hooks.update(cfg.get('default_hooks') or {})
    return hooks['checkpoint']


SHIPPED = sorted(
    p
    for p in glob.glob(osp.join(ROOT, 'configs', '**', '*.py'), recursive=True)
    if '_base_' not in p.split(os.sep)
)
_BASES = re.compile(r'_base_\s*=\s*(\[.*?\]|[\'"][^\'"]*[\'"])', re.S)


def _closure(path):
    """``path`` and every ``_base_`` file it names, recursively."""
    with open(path) as f:
        text = f.read()
    found = {path}
    bases = _BASES.search(text)
    for rel in re.findall(r'[\'"]([^\'"]+\.py)[\'"]', bases.group(1)) if bases else []:
        if rel.startswith('pvtv2_dense::'):  # a package-scoped base: configs/ of this repo
            found |= _closure(osp.join(ROOT, 'configs', rel.split('::', 1)[1]))
        else:
            found |= _closure(osp.normpath(osp.join(osp.dirname(path), rel)))
    return found


def _hook_files(path):
    """The files of ``path``'s closure that set ``default_hooks``: configs with the same set
    build the same checkpoint hook, so one of them is loaded for all (a walk of all 140 with
    Config.fromfile takes 25 s)."""
    return frozenset(f for f in _closure(path) if 'default_hooks' in open(f).read())


def test_every_shipped_config_builds_the_safe_checkpoint_hook():
    assert len(SHIPPED) > 20
    groups = {}
    for path in SHIPPED:
        groups.setdefault(_hook_files(path), []).append(path)
    assert len(groups) > 5, groups.keys()
    plain = []
    for paths in groups.values():
        cfg = Config.fromfile(paths[0])
        init_default_scope(cfg.get('default_scope', 'mmseg'))
        hook_cfg = _checkpoint_hook_cfg(cfg)
        if hook_cfg is None or not isinstance(HOOKS.build(hook_cfg), SafeCheckpointHook):
            plain += [osp.relpath(p, ROOT) for p in paths]
    assert not plain, f'configs whose checkpoint hook is not SafeCheckpointHook: {plain}'


def test_train_tool_swaps_mmengines_hook_in_other_configs():
    cfg = Config(dict(default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=3))))
    assert use_safe_checkpoint_hook(cfg)
    assert cfg.default_hooks.checkpoint == dict(type='SafeCheckpointHook', interval=3)
    custom = Config(dict(default_hooks=dict(checkpoint=dict(type='MyHook'))))
    assert not use_safe_checkpoint_hook(custom) and custom.default_hooks.checkpoint.type == 'MyHook'
