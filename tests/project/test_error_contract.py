"""The package's error contract, read from its source: a check of what a user gave raises the
``InputError`` family (``pvtv2_dense/errors.py``), never a bare ``ValueError`` or an ``assert``
(which ``python -O`` drops and ``cli_entry`` reports with a traceback). Every folder is read,
``benchmark/`` included."""

import ast
import os
import os.path as osp

from tests.helpers.common import ROOT

PACKAGE = osp.join(ROOT, 'pvtv2_dense')


def _sources():
    for folder, dirs, files in os.walk(PACKAGE):
        dirs[:] = sorted(d for d in dirs if d != '__pycache__')
        for name in sorted(files):
            if name.endswith('.py'):
                yield osp.join(folder, name)


def _raised_name(node):
    """``ValueError`` for ``raise ValueError(...)`` and ``raise ValueError``, else None."""
    exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
    return exc.id if isinstance(exc, ast.Name) else getattr(exc, 'attr', None)


def bare_checks(path):
    """``file:line`` of each ``raise ValueError`` and ``assert`` in the file at ``path``."""
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    rel = osp.relpath(path, osp.dirname(PACKAGE))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise) and node.exc is not None:
            if _raised_name(node) == 'ValueError':
                found.append((node.lineno, 'raise ValueError'))
        elif isinstance(node, ast.Assert):
            found.append((node.lineno, 'assert'))
    return [f'{rel}:{line}: {what}' for line, what in sorted(found)]


def test_the_walk_finds_what_it_looks_for(tmp_path):
    path = tmp_path / 'sample.py'
    path.write_text(
        'def f(x):\n'
        '    assert x\n'
        '    if x < 0:\n'
        "        raise ValueError('negative')\n"
        '    raise builtins.ValueError\n'
        "    raise TypeError('fine')\n"
    )
    found = [line.split(':', 1)[1] for line in bare_checks(str(path))]
    assert found == ['2: assert', '4: raise ValueError', '5: raise ValueError']


def test_no_bare_value_error_or_assert_in_the_package():
    sources = list(_sources())
    assert any(p.endswith(osp.join('engine', 'glpdepth_lr.py')) for p in sources)
    assert any(osp.join('pvtv2_dense', 'benchmark') in p for p in sources)
    found = [hit for path in sources for hit in bare_checks(path)]
    assert not found, (
        'raise an InputError subclass (ConfigError, DataError, CheckpointError) for bad input, '
        'or RuntimeError for a bug:\n' + '\n'.join(found)
    )
