"""One run per work dir (RunLock), the writability check made before long work starts, and what
``--resume`` accepts."""

import json
import os
import socket
import subprocess
import sys
from argparse import Namespace

import pytest
import torch
from mmengine.config import Config

from pvtv2_dense.cli.run_checks import check_loader, check_resume, resume_source
from pvtv2_dense.cli.training import training_run
from pvtv2_dense.errors import CheckpointError, OutputError
from pvtv2_dense.fileio import RunLock, check_writable
from pvtv2_dense.fileio.run_lock import LOCK_NAME


def _dead_pid():
    proc = subprocess.Popen([sys.executable, '-c', 'pass'])
    proc.wait()
    return proc.pid


def _write_lock(work_dir, **record):
    work_dir.mkdir(exist_ok=True)
    (work_dir / LOCK_NAME).write_text(json.dumps(record))


def test_a_second_run_is_refused_naming_the_holder(tmp_path):
    first = RunLock(str(tmp_path / 'w')).acquire()
    record = json.loads((tmp_path / 'w' / LOCK_NAME).read_text())
    assert record['pid'] == os.getpid() and record['host'] == socket.gethostname()
    with pytest.raises(OutputError, match=rf'in use by a running process \(pid {os.getpid()} '):
        RunLock(str(tmp_path / 'w')).acquire()
    first.release()
    assert not (tmp_path / 'w' / LOCK_NAME).exists()
    with RunLock(str(tmp_path / 'w')):  # free again
        assert (tmp_path / 'w' / LOCK_NAME).exists()
    assert not (tmp_path / 'w' / LOCK_NAME).exists()


def test_the_lock_of_a_dead_process_is_taken_over_with_a_warning(tmp_path, capsys):
    dead = _dead_pid()
    _write_lock(tmp_path / 'w', host=socket.gethostname(), pid=dead, started=None)
    lock = RunLock(str(tmp_path / 'w')).acquire()
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith('warning: ') and f'pid {dead}' in err[0]
    assert json.loads((tmp_path / 'w' / LOCK_NAME).read_text())['pid'] == os.getpid()
    lock.release()


def test_a_reused_pid_does_not_keep_a_stale_lock(tmp_path, capsys):
    # Our own pid, but another start time: the holder died and the id was given out again.
    _write_lock(tmp_path / 'w', host=socket.gethostname(), pid=os.getpid(), started=1)
    RunLock(str(tmp_path / 'w')).acquire().release()
    assert 'taking over' in capsys.readouterr().err


@pytest.mark.parametrize(
    'record, expected',
    [
        (dict(host='elsewhere', pid=1, started=None), 'a run on host elsewhere'),
        (None, 'an unreadable lock'),
    ],
)
def test_a_lock_that_cannot_be_checked_is_refused(tmp_path, record, expected):
    (tmp_path / 'w').mkdir()
    (tmp_path / 'w' / LOCK_NAME).write_text(json.dumps(record) if record else '{half')
    with pytest.raises(OutputError, match=expected):
        RunLock(str(tmp_path / 'w')).acquire()
    assert (tmp_path / 'w' / LOCK_NAME).exists()


def test_check_writable_refuses_a_file_for_a_folder_and_the_reverse(tmp_path):
    (tmp_path / 'f').write_text('mine')
    with pytest.raises(OutputError, match=r'--work-dir .*f is a file; expected a folder'):
        check_writable(str(tmp_path / 'f'), '--work-dir')
    with pytest.raises(
        OutputError, match=r'--out .*preds.pkl cannot be written: .*f is a file, not a folder'
    ):
        check_writable(str(tmp_path / 'f' / 'preds.pkl'), '--out', folder=False)
    with pytest.raises(OutputError, match=r'--out .* is a folder; expected a file'):
        check_writable(str(tmp_path), '--out', folder=False)
    check_writable(str(tmp_path / 'new' / 'run'), '--work-dir')
    assert os.listdir(tmp_path / 'new' / 'run') == []  # created, the probe gone
    assert (tmp_path / 'f').read_text() == 'mine'


def unwritable(tmp_path):
    """A folder nobody may write into: read-only bits, or sysfs for root (who ignores them)."""
    if os.geteuid() == 0:
        return '/sys'
    folder = tmp_path / 'ro'
    folder.mkdir()
    folder.chmod(0o555)
    return str(folder)


def test_check_writable_refuses_an_unwritable_place(tmp_path):
    where = unwritable(tmp_path)
    with pytest.raises(OutputError, match=r'--show-dir .*pvtv2_vis cannot be written'):
        check_writable(os.path.join(where, 'pvtv2_vis'), '--show-dir')


def test_resume_source_and_what_resume_accepts(tmp_path):
    work = tmp_path / 'w'
    work.mkdir()
    assert resume_source(str(work), 'auto') is None  # nothing to resume
    weights = {'conv.weight': torch.ones(1)}
    run = tmp_path / 'iter_3.pth'
    torch.save(dict(state_dict=weights, optimizer={}, meta=dict(iter=3, epoch=0)), run)
    (work / 'last_checkpoint').write_text(f'{run}\n')
    assert resume_source(str(work), 'auto') == str(run)
    assert check_resume(str(run), 'a.py') == f'resuming from {run} (iter 3, epoch 0)'
    for name, ckpt, what in [
        ('bare.pth', weights, 'a bare state dict'),
        ('released.pth', dict(state_dict=weights, meta={}), 'weights without optimizer state'),
    ]:
        torch.save(ckpt, tmp_path / name)
        with pytest.raises(CheckpointError, match=rf'{name} holds {what}, .* config a\.py'):
            check_resume(str(tmp_path / name), 'a.py')
    with pytest.raises(CheckpointError, match='--resume checkpoint .*nope.pth does not exist'):
        resume_source(str(work), str(tmp_path / 'nope.pth'))


def test_persistent_workers_without_workers_is_turned_off_with_a_note(capsys):
    cfg = Config(dict(train_dataloader=dict(batch_size=2, num_workers=0, persistent_workers=True)))
    check_loader(cfg, 'train_dataloader')
    assert cfg.train_dataloader.persistent_workers is False
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith('note: train_dataloader.num_workers=0')


def test_resume_with_nothing_to_resume_says_so_and_starts_afresh(tmp_path, capsys):
    cfg = Config(dict(work_dir=str(tmp_path / 'typo'), resume=True))
    args = Namespace(resume='auto', overwrite=False, config='a.py', launcher='none')
    with training_run(cfg, args):
        assert (tmp_path / 'typo' / LOCK_NAME).exists()
    assert cfg.resume is False and not (tmp_path / 'typo' / LOCK_NAME).exists()
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f'note: --resume: {tmp_path / "typo"} holds no checkpoint to resume; starting a new run'
    ]
