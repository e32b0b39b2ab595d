"""An output path is checked writable before the long work of an export or conversion."""

import os
import os.path as osp

from ..errors import OutputError


def check_writable(path, option):
    """Raise a one-line :class:`OutputError` when ``path`` (given as ``option``) cannot be
    written: its nearest existing folder is not writable, or a parent is a file.

    Args:
        path (str): the output file or folder.
        option (str): how the user gave it (``'--out'``, ``'OUT_DIR'``), for the message.
    """
    folder = osp.dirname(osp.abspath(path))
    while not osp.exists(folder):
        folder = osp.dirname(folder)
    if not osp.isdir(folder):
        raise OutputError(f'{option} {path}: {folder} is a file, not a folder')
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f'{option} {path}: folder {folder} is not writable')
