"""The test suite's own layout: tests grouped by package concern, helpers shared only from
``tests/helpers/``, no test module importing another."""

import ast
import os
import os.path as osp

from tests.helpers.common import ROOT

TESTS = osp.join(ROOT, 'tests')


def _test_modules():
    for folder, dirs, files in os.walk(TESTS):
        dirs[:] = [d for d in dirs if d != '__pycache__']
        names = (f for f in files if f.startswith('test_') and f.endswith('.py'))
        yield from (osp.join(folder, f) for f in names)


def _imported_modules(path):
    with open(path, encoding='utf-8') as f:
        tree = ast.parse(f.read(), path)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            yield '.' * node.level + (node.module or '')
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)


def test_test_modules_live_in_a_concern_folder():
    flat = [osp.basename(p) for p in _test_modules() if osp.dirname(p) == TESTS]
    assert not flat, f'move these into a folder of tests/ by concern: {flat}'


def _imports_of_tests(path):
    """What ``path`` imports from other test modules or conftest (relative imports included)."""
    for name in _imported_modules(path):
        last = name.rsplit('.', 1)[-1]
        if name.startswith('.') or last.startswith('test_') or last == 'conftest':
            yield name


def test_no_test_module_imports_another():
    offenders = [
        f'{osp.relpath(path, ROOT)} imports {name}'
        for path in _test_modules()
        for name in _imports_of_tests(path)
    ]
    assert not offenders, 'share helpers through tests/helpers/ instead:\n' + '\n'.join(offenders)


def test_the_rule_catches_sibling_and_conftest_imports(tmp_path):
    path = tmp_path / 'test_x.py'
    path.write_text(
        'from .test_tools_cli import load_tool\nfrom tests.conftest import ROOT\n'
        'from tests.helpers.tools import run_script\nimport tests.models.test_backbone\n'
    )
    found = list(_imports_of_tests(str(path)))
    assert found == ['.test_tools_cli', 'tests.conftest', 'tests.models.test_backbone']
