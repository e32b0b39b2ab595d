"""The package's layers: library code never imports ``pvtv2_dense.cli`` (the tools' plumbing),
and the tools import the package, never each other's scripts."""

import ast
import glob
import os
import os.path as osp

import pytest

from tests.helpers.common import ROOT

PACKAGE = osp.join(ROOT, 'pvtv2_dense')
CLI = 'pvtv2_dense.cli'
# Ways to run another file as a module without importing it by name.
SCRIPT_LOADERS = ('spec_from_file_location', 'SourceFileLoader', 'run_path', 'run_module')


def _module_name(path):
    rel = osp.relpath(path, ROOT)[: -len('.py')].replace(os.sep, '.')
    return rel[: -len('.__init__')] if rel.endswith('.__init__') else rel


def imported_names(source, module, is_package=False):
    """Every module ``source`` (the text of ``module``) imports, relative imports resolved;
    ``from a import b`` yields both ``a`` and ``a.b`` (``b`` may be a submodule)."""
    package = module if is_package else module.rpartition('.')[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split('.')
            if node.level:
                base = base[: len(base) - node.level + 1]
                name = '.'.join(base + ([node.module] if node.module else []))
            else:
                name = node.module
            yield name
            yield from (f'{name}.{alias.name}' for alias in node.names)


def imports_cli(source, module, is_package=False):
    """The imports of ``pvtv2_dense.cli`` (or anything under it) in ``source``."""
    names = imported_names(source, module, is_package)
    return sorted({n for n in names if n == CLI or n.startswith(CLI + '.')})


def _library_files():
    for folder, dirs, files in os.walk(PACKAGE):
        dirs[:] = [d for d in dirs if d not in ('__pycache__', 'cli')]
        yield from (osp.join(folder, f) for f in files if f.endswith('.py'))


@pytest.mark.parametrize(
    'module, source, found',
    [
        ('pvtv2_dense.deploy.hf', 'from ..cli import CLIError', True),
        ('pvtv2_dense.deploy.hf', 'from ..cli.outputs import replace_path', True),
        ('pvtv2_dense.apis.inference', 'import pvtv2_dense.cli.errors', True),
        ('pvtv2_dense.apis.inference', 'from pvtv2_dense import cli', True),
        ('pvtv2_dense.deploy.hf', 'def f():\n    from .. import cli', True),
        ('pvtv2_dense.deploy.hf', 'from ..checkpoint import read_checkpoint', False),
        ('pvtv2_dense.deploy.hf', 'from .cli import x', False),  # pvtv2_dense.deploy.cli
        ('pvtv2_dense.deploy.hf', 'from ..client import x', False),
    ],
)
def test_cli_imports_are_recognised(module, source, found):
    assert bool(imports_cli(source, module)) == found


def test_library_never_imports_cli():
    offenders = []
    for path in _library_files():
        with open(path, encoding='utf-8') as f:
            source = f.read()
        module = _module_name(path)
        for name in imports_cli(source, module, path.endswith('__init__.py')):
            offenders.append(f'{osp.relpath(path, ROOT)} imports {name}')
    assert not offenders, (
        'library code raises pvtv2_dense.errors and imports library modules; only tools/ use '
        'pvtv2_dense.cli:\n' + '\n'.join(offenders)
    )


def _tool_files():
    return sorted(
        glob.glob(osp.join(ROOT, 'tools', '*.py')) + glob.glob(osp.join(ROOT, 'tools', '*', '*.py'))
    )


def tool_loads(source, tool_names):
    """How ``source`` runs or imports other tool scripts: script loaders it calls, and
    imports of modules named like a tool script."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr in SCRIPT_LOADERS:
            found.append(node.attr)
        elif isinstance(node, ast.Name) and node.id in SCRIPT_LOADERS:
            found.append(node.id)
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split('.')[0] in tool_names]
        elif isinstance(node, ast.ImportFrom) and not node.level:
            if (node.module or '').split('.')[0] in tool_names:
                found.append(node.module)
    return found


def test_tool_loading_is_recognised():
    names = {'get_flops', 'benchmark'}
    source = (
        'import importlib.util\n'
        "spec = importlib.util.spec_from_file_location('x', 'tools/get_flops.py')\n"
    )
    assert tool_loads(source, names) == ['spec_from_file_location']
    assert tool_loads('import get_flops\nfrom benchmark import dummy_batch', names) == [
        'get_flops',
        'benchmark',
    ]
    assert tool_loads('from pvtv2_dense.benchmark.dummy import dummy_batch', names) == []


def test_tools_import_the_package_not_each_other():
    paths = _tool_files()
    assert len(paths) > 10, 'the tools were not found'
    names = {osp.basename(p)[: -len('.py')] for p in paths} - {'__init__'}
    offenders = []
    for path in paths:
        with open(path, encoding='utf-8') as f:
            for how in tool_loads(f.read(), names):
                offenders.append(f'{osp.relpath(path, ROOT)}: {how}')
    assert not offenders, (
        'move what tools share into the package and import it from there:\n' + '\n'.join(offenders)
    )
