"""File names read from data files stay inside their folder.

A data file names other files: COCO ``file_name``s, panoptic PNG names, list files of
classification or depth sets, scene names of a converted .mat. Joined naively to a folder, a name
such as ``../../x`` or ``/etc/x`` reads (or, in a converter, writes) outside it. The rule, checked
on the text of the name (so a data folder that is itself a symlink, or symlinked files inside it,
keep working): a name is a non-empty relative path, without ``..`` components, NUL bytes or
backslashes, and not starting with ``~``.
"""

import os.path as osp

from ..errors import DataError


def name_problem(name) -> str:
    """What makes ``name`` unfit to join to a folder, or '' when it is a plain relative path.

    Args:
        name: the name as read from the data file (any type; only a string can pass).

    Returns:
        str: e.g. ``'is an absolute path'``; '' when the name is fine.
    """
    if not isinstance(name, str) or not name.strip():
        return 'is not a non-empty string'
    if '\0' in name:
        return 'holds a NUL byte'
    if '\\' in name:
        return "holds a backslash (use '/' between folders)"
    if osp.isabs(name) or name.startswith('~'):
        return 'is an absolute path'
    if '..' in name.split('/'):
        return "has a '..' component (it would leave its folder)"
    return ''


def confined_join(folder, name, source, what='file name'):
    """``folder/name``, refusing a ``name`` that would leave ``folder``.

    Args:
        folder (str): the folder the name is relative to.
        name (str): the name read from ``source``.
        source (str): the data file the name comes from, for the message.
        what (str): what the name is (``'file_name'``, ``'scene name'``), for the message.

    Returns:
        str: the joined path.

    Raises:
        DataError: naming ``source`` and the offending name.
    """
    problem = name_problem(name)
    if problem:
        raise DataError(f'{source}: {what} {name!r} {problem}; expected a path inside {folder}')
    return osp.join(folder, name)
