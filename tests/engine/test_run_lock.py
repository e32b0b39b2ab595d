"""One run per work dir (RunLock), the writability check made before long work starts, and what
``--resume`` accepts."""

import json
import os
import socket
import subprocess
import sys

import pytest
import torch

from pvtv2_dense.cli.run_checks import check_resume, resume_source
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
