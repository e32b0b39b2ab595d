"""One Python floor: setup.py's python_requires, ruff's target-version and the source agree."""

import ast
import os
import os.path as osp
import re

from tests.helpers.common import ROOT

SOURCES = ('pvtv2_dense', 'tools', 'tests', 'configs')


def _floor_of_setup():
    with open(osp.join(ROOT, 'setup.py')) as f:
        match = re.search(r"python_requires='>=(\d+)\.(\d+)'", f.read())
    assert match, 'setup.py: python_requires must read >=MAJOR.MINOR'
    return int(match.group(1)), int(match.group(2))


def _floor_of_ruff():
    with open(osp.join(ROOT, 'pyproject.toml')) as f:
        match = re.search(r'target-version = "py(\d)(\d+)"', f.read())
    assert match, 'pyproject.toml: [tool.ruff] target-version must be set'
    return int(match.group(1)), int(match.group(2))


def test_metadata_and_linter_name_the_same_floor():
    assert _floor_of_setup() == _floor_of_ruff() == (3, 10)


def test_every_source_file_parses_at_the_floor():
    floor = _floor_of_setup()
    bad = []
    for top in SOURCES:
        for folder, dirs, files in os.walk(osp.join(ROOT, top)):
            dirs[:] = [d for d in dirs if d != '__pycache__']
            for name in (f for f in files if f.endswith('.py')):
                path = osp.join(folder, name)
                with open(path, encoding='utf-8') as f:
                    try:
                        ast.parse(f.read(), path, feature_version=floor)
                    except SyntaxError as err:
                        bad.append(f'{osp.relpath(path, ROOT)}:{err.lineno}: {err.msg}')
    assert not bad, f'not valid Python {floor[0]}.{floor[1]}:\n' + '\n'.join(bad)
