"""Writing outputs without losing what a user made.

A file is written under a temporary name beside its target and renamed over it only once
complete, so an interrupted converter or export never leaves a half-written file under the
target name; a training run started in a work dir that already holds a run either resumes it
(``--resume``) or is refused, unless ``--overwrite``.
"""

import contextlib
import glob
import os
import os.path as osp
import re
import shutil
import sys
import tempfile

from ..errors import OutputError


def _fsync_folder(folder):
    """Make a rename in ``folder`` durable (POSIX: the directory entry lives in the folder)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # a platform without directory handles (Windows): the rename still happened
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


TEMP_MARK = '.tmp'


def temp_name(path):
    """The temporary name :func:`atomic_output` writes ``path`` under (same folder, hidden, with
    this process's id, the extension last); stale ones are found with :func:`stale_temps`."""
    folder = osp.dirname(osp.abspath(path))
    stem, ext = osp.splitext(osp.basename(path))
    # The extension stays last: writers such as cv2.imwrite choose the format by it.
    return osp.join(folder, f'.{stem}.{os.getpid()}{TEMP_MARK}{ext}')


def stale_temps(folder):
    """Temporary files an interrupted :func:`atomic_output` left in ``folder``."""
    if not osp.isdir(folder):
        return []
    pattern = re.compile(rf'^\..+\.\d+{re.escape(TEMP_MARK)}(\.[^.]*)?$')
    return sorted(osp.join(folder, n) for n in os.listdir(folder) if pattern.match(n))


@contextlib.contextmanager
def atomic_output(path):
    """Yield a temporary path beside ``path``; when the block succeeds, flush it to disk
    (fsync) and rename it to ``path``, so ``path`` is always either the old file or the
    complete new one, even after a kill or a power cut at any instant.

    This is the one way the package writes a file that must survive interruption: checkpoints
    (training, converters, exports), ``last_checkpoint``, reports.

    Args:
        path (str): the file to write.

    Yields:
        str: where to write (same folder, so the rename is atomic).

    Raises:
        OutputError: the folder cannot be created or written (the message names it).
    """
    folder = osp.dirname(osp.abspath(path))
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as err:
        raise OutputError(f'cannot write {path}: {err.strerror or err} ({folder})') from None
    tmp = temp_name(path)
    try:
        yield tmp
        if osp.isfile(tmp):
            with open(tmp, 'rb+') as f:
                os.fsync(f.fileno())
        os.replace(tmp, path)
        _fsync_folder(folder)
    finally:
        if osp.lexists(tmp):
            os.remove(tmp)


def write_text_atomically(text, path):
    """Write ``text`` to ``path`` through :func:`atomic_output` (e.g. ``last_checkpoint``)."""
    with atomic_output(path) as tmp, open(tmp, 'w') as f:
        f.write(text)


def replace_path(src, dst):
    """Rename ``src`` (a file or folder) to ``dst``, removing the file or folder at ``dst``
    first; for outputs finished under a temporary name whose overwrite was already allowed."""
    if osp.isdir(dst):
        shutil.rmtree(dst)
    elif osp.exists(dst):
        os.remove(dst)
    os.replace(src, dst)


def save_torch_atomically(obj, path):
    """``torch.save(obj, path)`` through :func:`atomic_output`: what every checkpoint writer of
    the package (converters, exports) calls; training goes through ``SafeCheckpointHook``."""
    import torch

    with atomic_output(path) as tmp:
        torch.save(obj, tmp)


def refuse_overwrite(path, option, overwrite=False):
    """Stop with a one-line error when ``path`` (given as ``option``) is an existing file or a
    folder that is not empty, i.e. the output of an earlier run, unless ``overwrite``.

    Args:
        path (str | None): the output file or folder (None: nothing to check).
        option (str): how the user gave it (``'--out'``, ``'dst'``), for the message.
        overwrite (bool): ``--overwrite`` was given.

    Raises:
        OutputError: ``path`` holds something and ``overwrite`` is False.
    """
    if overwrite or not path or not osp.exists(path):
        return
    if osp.isdir(path) and not os.listdir(path):
        return
    what = 'is a folder that is not empty' if osp.isdir(path) else 'already exists'
    raise OutputError(
        f'{option} {path} {what} (an earlier run?); choose another path, or pass --overwrite '
        'to write over it'
    )


def existing_run(work_dir):
    """The checkpoints (or ``last_checkpoint`` record) an earlier run left in ``work_dir``."""
    if not work_dir or not osp.isdir(work_dir):
        return []
    found = sorted(glob.glob(osp.join(work_dir, '*.pth')))
    if osp.isfile(osp.join(work_dir, 'last_checkpoint')):
        found.append(osp.join(work_dir, 'last_checkpoint'))
    return found


def check_run_dir(work_dir, resume, overwrite=False):
    """Say what a training run does with a work dir that holds an earlier run.

    Args:
        work_dir (str): the run's work dir.
        resume (str | None): ``--resume`` (``'auto'``, a checkpoint path, or None).
        overwrite (bool): ``--overwrite``: start afresh there, writing over its checkpoints.

    Raises:
        OutputError: the folder holds checkpoints and neither ``resume`` nor ``overwrite`` is set.
    """
    found = existing_run(work_dir)
    if not found:
        return
    names = ', '.join(osp.basename(p) for p in found[:3]) + (' ...' if len(found) > 3 else '')
    if resume:
        source = 'its latest checkpoint' if resume == 'auto' else resume
        print(f'note: {work_dir} holds a run ({names}); resuming from {source}', file=sys.stderr)
    elif overwrite:
        print(
            f'note: {work_dir} holds a run ({names}); starting a new run there (--overwrite), '
            'its checkpoints will be written over',
            file=sys.stderr,
        )
    else:
        raise OutputError(
            f'--work-dir {work_dir} holds an earlier run ({names}); pass --resume to continue '
            'it, --overwrite to start a new run there, or choose another --work-dir'
        )


def check_writable(path, option, folder=True):
    """Stop before any long work when an output cannot be written where the user asked.

    Creates the folder (``folder=True``: ``path`` itself; else the folder of the file ``path``)
    and writes and removes a probe file in it, which also catches read-only file systems, where
    permission bits say nothing (e.g. for root).

    Args:
        path (str | None): the output (None: nothing to check).
        option (str): how the user gave it (``'--work-dir'``, ``'--out'``), for the message.
        folder (bool): ``path`` is a folder (else a file).

    Raises:
        OutputError: naming ``option``, ``path`` and what is wrong (a file where a folder is
            expected or the reverse, no permission, a read-only file system).
    """
    if not path:
        return
    if folder and osp.exists(path) and not osp.isdir(path):
        raise OutputError(f'{option} {path} is a file; expected a folder (or a new name)')
    if not folder and osp.isdir(path):
        raise OutputError(f'{option} {path} is a folder; expected a file name')
    where = path if folder else (osp.dirname(osp.abspath(path)) or '.')
    above = osp.abspath(where)
    while not osp.exists(above) and osp.dirname(above) != above:
        above = osp.dirname(above)
    if not osp.isdir(above):
        raise OutputError(f'{option} {path} cannot be written: {above} is a file, not a folder')
    try:
        os.makedirs(where, exist_ok=True)
        with tempfile.TemporaryFile(dir=where, prefix='.write_probe'):
            pass
    except OSError as err:
        reason = err.strerror or type(err).__name__
        culprit = f' ({err.filename})' if err.filename and err.filename != where else ''
        raise OutputError(
            f'{option} {path} cannot be written: {reason}{culprit}; choose a writable place'
        ) from None
