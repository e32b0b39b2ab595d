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
import shutil
import sys

from ..errors import OutputError


@contextlib.contextmanager
def atomic_output(path):
    """Yield a temporary path beside ``path``; rename it to ``path`` when the block succeeds.

    Args:
        path (str): the file to write.

    Yields:
        str: where to write (same folder, so the rename is atomic).
    """
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    stem, ext = osp.splitext(osp.basename(path))
    # The extension stays last: writers such as cv2.imwrite choose the format by it.
    tmp = osp.join(folder, f'.{stem}.{os.getpid()}.tmp{ext}')
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)


def replace_path(src, dst):
    """Rename ``src`` (a file or folder) to ``dst``, removing the file or folder at ``dst``
    first; for outputs finished under a temporary name whose overwrite was already allowed."""
    if osp.isdir(dst):
        shutil.rmtree(dst)
    elif osp.exists(dst):
        os.remove(dst)
    os.replace(src, dst)


def save_torch_atomically(obj, path):
    """``torch.save(obj, path)`` through :func:`atomic_output`."""
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
