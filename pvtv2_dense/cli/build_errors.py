"""One-line messages for the errors mmengine raises while it builds what a config describes.

Three such errors come from a config without being an ``InputError``: the registry's
``KeyError`` for an unknown ``type=``, the ``TypeError`` of an option the built class does not
take (or one it needs), and a ``FileNotFoundError`` for a file the config names. The same
exceptions raised by a bug keep their traceback; the difference is where they were raised: under
one of the build functions of mmengine's registry.

mmengine 0.10 has no hook for this: its build functions neither wrap nor chain (``__cause__``)
a constructor's error, and a registry takes no error callback. :func:`build_site` therefore reads
the build function's local variables; it is the one place here that relies on mmengine's
internals, and ``tests/tools/test_mmengine_build_errors.py`` pins each behaviour it uses.
"""

import inspect
import re
import traceback
from typing import NamedTuple

from ..errors import did_you_mean

_BUILD_FILE = ('mmengine', 'registry', 'build_functions.py')
# The local that holds the class being built, per build function; build_scheduler_from_cfg
# builds a scheduler with convert_to_iter_based itself, without build_from_cfg.
_CLASS_LOCAL = {'build_from_cfg': 'obj_cls', 'build_scheduler_from_cfg': 'scheduler_cls'}
# "X is not in the mmseg::model registry. Please check ..." (the scope is left out by
# build_scheduler_from_cfg; registry names may hold spaces: 'parameter scheduler').
_NOT_REGISTERED = re.compile(r"^'?(\S+) is not in the (?:[\w.]+::)?(\w[\w ]*?) registry")
_BAD_KWARG = re.compile(r"(?:(\w+)\.)?__init__\(\) got an unexpected keyword argument '(\w+)'")
_MISSING_ARG = re.compile(r'(?:(\w+)\.)?__init__\(\) missing \d+ required \w+ arguments?: (.+)$')


class BuildSite(NamedTuple):
    """What mmengine was building when an error was raised."""

    registry: object  # the (scope's) Registry searched for the type
    cls: object | None  # the class (or function) being built; None if not found


def build_site(err: BaseException) -> BuildSite | None:
    """The innermost mmengine build call ``err`` was raised under, or None.

    Reads the locals ``registry`` and ``obj_cls`` of ``build_from_cfg`` and ``registry`` and
    ``scheduler_cls`` of ``build_scheduler_from_cfg`` (mmengine/registry/build_functions.py).
    """
    site = None
    for frame, _ in traceback.walk_tb(err.__traceback__):
        code = frame.f_code
        where = tuple(code.co_filename.replace('\\', '/').split('/')[-3:])
        if where == _BUILD_FILE and code.co_name in _CLASS_LOCAL:
            found = frame.f_locals
            site = BuildSite(found.get('registry'), found.get(_CLASS_LOCAL[code.co_name]))
    return site


def _name(obj):
    return getattr(obj, '__name__', None) or type(obj).__name__


def unknown_type(err: KeyError) -> str | None:
    """mmengine's ``KeyError: 'X is not in the mmseg::model registry. Please check ...'``."""
    match = _NOT_REGISTERED.match(str(err.args[0]) if err.args else '')
    if not match:
        return None
    name, kind = match.groups()
    site = build_site(err)
    registry, known = site.registry if site else None, set()
    while registry is not None:
        known |= set(registry.module_dict)
        registry = registry.parent
    return (
        f"config: type='{name}' is not a registered {kind}{did_you_mean(name, known)}; "
        'check the spelling, or the custom_imports that register it'
    )


def bad_option(err: TypeError) -> str | None:
    """A ``TypeError`` for an option the class a config builds does not take, or lacks."""
    site = build_site(err)
    text = str(err)
    bad, missing = _BAD_KWARG.search(text), _MISSING_ARG.search(text)
    if site is None or site.cls is None or not (bad or missing):
        return None
    built = _name(site.cls)
    cls = (bad or missing).group(1) or built
    where = f'{cls} (built for type={built!r})' if cls != built else cls
    if missing:
        return f'config: {where} needs option(s) {missing.group(2)}, which the config lacks'
    key = bad.group(2)
    try:
        params = [p for p in inspect.signature(site.cls).parameters if p not in ('args', 'kwargs')]
    except (TypeError, ValueError):  # a builtin or C class without a signature
        params = []
    listed = f'; it takes: {", ".join(params)}' if params and cls == built else ''
    return f'config: {where} takes no option {key!r}{did_you_mean(key, params)}{listed}'


def missing_file(err: FileNotFoundError) -> str | None:
    """A file a config names (an annotation file, a prefix) that does not exist, found while
    building what the config describes (a dataset, a metric)."""
    site = build_site(err)
    if site is None or site.cls is None or not err.filename:
        return None
    return f'config: {_name(site.cls)} needs {err.filename}, which does not exist; check its paths'
