"""The product cites papers and public repositories, never files that only its developers have."""

import os
import os.path as osp

from tests.helpers.common import ROOT

# Built from parts so that this file does not match itself.
FORBIDDEN = ('/'.join(('', 'work', '')), '/'.join(('shared', '')), '.'.join(('reference', 'md')))
PRODUCT = ('pvtv2_dense', 'configs', 'tools', 'docs', 'tests', 'requirements')
TEXT = ('.py', '.md', '.txt', '.sh', '.yml', '.yaml', '.toml', '.cfg')


def _product_files():
    # data/ holds the user's datasets beside its README: only the README is ours.
    names = ('README.md', 'pyproject.toml', 'setup.py', 'data/README.md')
    yield from (osp.join(ROOT, name) for name in names)
    for top in PRODUCT:
        for folder, dirs, files in os.walk(osp.join(ROOT, top)):
            dirs[:] = [d for d in dirs if d != '__pycache__']
            yield from (osp.join(folder, f) for f in files if f.endswith(TEXT))


def test_nothing_points_outside_the_repository():
    hits = []
    for path in _product_files():
        if not osp.isfile(path):
            continue
        with open(path, encoding='utf-8', errors='replace') as f:
            for number, line in enumerate(f, 1):
                if any(word in line for word in FORBIDDEN):
                    hits.append(f'{osp.relpath(path, ROOT)}:{number}: {line.strip()}')
    assert not hits, 'cite the paper or repository instead:\n' + '\n'.join(hits)
