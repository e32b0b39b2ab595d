"""Every test a document names as its proof exists: a claim nothing tests is a defect.

The docs cite tests as `` `tests/x/test_y.py::test_name` `` and, right after such a citation,
`` `::other_name` `` in the same file; a renamed or deleted test must fail here, not leave the
docs pointing at nothing.
"""

import ast
import os.path as osp
import re
from glob import glob

from tests.helpers.common import ROOT

CITATION = re.compile(r'`(tests/[\w/]+\.py)(?:::(\w+))?[^`]*`|`::(\w+)[^`]*`')


def _documents():
    return [osp.join(ROOT, 'README.md'), *sorted(glob(osp.join(ROOT, 'docs', '*.md')))]


def _test_names(path):
    tree = ast.parse(open(path, encoding='utf-8').read())
    return {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.ClassDef)}


def citations(text):
    """``(file, name or None)`` for each citation in ``text``, ``::name`` bound to the last file."""
    out, last = [], None
    for match in CITATION.finditer(text):
        path, name, bare = match.groups()
        if path:
            last = path
            out.append((path, name))
        elif last:
            out.append((last, bare))
    return out


def test_citations_are_parsed_with_their_file():
    text = '`tests/a/test_b.py::test_c`, `::test_d` and `tests/e/test_f.py` `[row]`'
    assert citations(text) == [
        ('tests/a/test_b.py', 'test_c'),
        ('tests/a/test_b.py', 'test_d'),
        ('tests/e/test_f.py', None),
    ]


def test_every_cited_test_exists():
    missing = []
    for doc in _documents():
        for path, name in citations(open(doc, encoding='utf-8').read()):
            full = osp.join(ROOT, path)
            if not osp.isfile(full):
                missing.append(f'{osp.relpath(doc, ROOT)}: {path}')
            elif name and name not in _test_names(full):
                missing.append(f'{osp.relpath(doc, ROOT)}: {path}::{name}')
    assert not missing, 'documents cite tests that do not exist:\n' + '\n'.join(missing)
