"""Config loading and the options every tool shares.

``--cfg-options`` rule: every key's parent path must already exist in the config (``a.b.c=1``
needs ``a.b`` to be a dict, or a list when ``c`` is an index). A new leaf under an existing dict is
allowed, as mmseg/mmdet users expect (``model.backbone.with_cp=True``), and is announced on stderr
so a typo in the last component is still visible.
"""

import os.path as osp
import sys

from mmengine.config import Config

from .errors import CLIError, one_line


def load_config(path, cfg_options=None):
    """Read a config file and apply ``--cfg-options`` after checking their keys.

    Args:
        path (str): config file.
        cfg_options (dict, optional): ``{dotted.key: value}`` from ``DictAction``.

    Returns:
        Config: the merged config.

    Raises:
        CLIError: the file is missing or unreadable, or an option's parent path does not exist.
    """
    if not osp.isfile(path):
        raise CLIError(f'config file {path} does not exist')
    try:
        cfg = Config.fromfile(path)
    except FileNotFoundError as err:  # a _base_ file it names
        raise CLIError(
            f'cannot read config {path}: {osp.normpath(err.filename or "?")}, which it names '
            '(a _base_ file?), does not exist'
        ) from None
    except Exception as err:  # syntax errors, failed custom_imports
        raise CLIError(
            f'cannot read config {path}: {type(err).__name__}: {one_line(err)}'
        ) from None
    if cfg_options:
        for key in check_cfg_options(cfg, cfg_options):
            print(f'note: --cfg-options adds {key}, which is not in {path}', file=sys.stderr)
        cfg.merge_from_dict(cfg_options)
    return cfg


def _type_mismatch(key, old, new):
    """A message when ``new`` cannot stand for the config's number or flag ``old``, else None
    (strings, dicts and lists are left to the classes that read them)."""
    if old is None or new is None:
        return None
    if isinstance(old, bool):
        ok, kind = isinstance(new, bool), 'True or False'
    elif isinstance(old, (int, float)):
        ok, kind = isinstance(new, (int, float)) and not isinstance(new, bool), 'a number'
    else:
        return None
    if ok:
        return None
    return (
        f'--cfg-options {key}={new!r}: expected {kind}, as the config has {old!r} '
        f'(got {type(new).__name__})'
    )


def check_cfg_options(cfg, options):
    """Check that every dotted key's parent exists; return the keys that add a new leaf.

    Args:
        cfg (Config): the config the options will be merged into.
        options (dict): ``{dotted.key: value}``.

    Returns:
        list[str]: keys whose last component is new (their parent dict exists).

    Raises:
        CLIError: naming the first key whose parent path is missing or not a dict/list, or
            whose value is not a number (or a flag) where the config has one.
    """
    added = []
    for key in options:
        node, parts = cfg._cfg_dict, key.split('.')
        for depth, part in enumerate(parts):
            where = '.'.join(parts[:depth]) or 'the top level'
            last = depth == len(parts) - 1
            if isinstance(node, (list, tuple)):
                if not part.isdigit() or int(part) >= len(node):
                    raise CLIError(
                        f'--cfg-options key {key!r}: {where} is a list of {len(node)} items, '
                        f'{part!r} is not an index into it'
                    )
                if last:
                    mismatch = _type_mismatch(key, node[int(part)], options[key])
                    if mismatch:
                        raise CLIError(mismatch)
                node = node[int(part)]
            elif isinstance(node, dict):
                if part not in node:
                    if last:
                        added.append(key)
                        break
                    known = ', '.join(sorted(map(str, node))[:12])
                    raise CLIError(
                        f'--cfg-options key {key!r}: {where} has no key {part!r} (it has: {known})'
                    )
                if last:
                    mismatch = _type_mismatch(key, node[part], options[key])
                    if mismatch:
                        raise CLIError(mismatch)
                node = node[part]
            else:
                raise CLIError(
                    f'--cfg-options key {key!r}: {where} is {type(node).__name__} '
                    f'{node!r}, not a dict; set {where} as a whole instead'
                )
    return added


def default_work_dir(cfg, config_path, work_dir=None):
    """``--work-dir`` if given, else the config's, else ``work_dirs/<config name>``."""
    if work_dir:
        return work_dir
    if cfg.get('work_dir'):
        return cfg.work_dir
    return osp.join('work_dirs', osp.splitext(osp.basename(config_path))[0])


def add_compile_arg(parser):
    """``--compile [BACKEND]``: torch.compile the model's parts (:class:`TorchCompileHook`)."""
    parser.add_argument(
        '--compile',
        nargs='?',
        const='inductor',
        default=None,
        metavar='BACKEND',
        help="torch.compile backbone, neck and heads (default backend 'inductor'; e.g. "
        "'aot_eager' compiles in seconds)",
    )


def apply_compile_arg(cfg, backend):
    """Append a ``TorchCompileHook`` for ``--compile BACKEND`` (no-op when not given)."""
    if backend:
        hooks = list(cfg.get('custom_hooks', []))
        hooks.append(dict(type='TorchCompileHook', backend=backend))
        cfg.custom_hooks = hooks
