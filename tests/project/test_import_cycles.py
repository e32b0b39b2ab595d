"""No import circle inside ``pvtv2_dense``, and ``models/`` imports nothing of ``checkpoint/``.

Read from the source: every import of every module, those inside functions included (a deferred
import hides a circle, it does not remove it), makes an edge to the module it names (``from a
import b`` names ``a.b`` when that is a module, else ``a``); a strongly connected component of two
or more modules, or a module importing itself, is a circle.
"""

import ast
import os
import os.path as osp

from tests.helpers.common import ROOT

PACKAGE = 'pvtv2_dense'


def _modules(root):
    """Module name -> (path, is_package) for every ``.py`` file under ``root/pvtv2_dense``."""
    found = {}
    for folder, dirs, files in os.walk(osp.join(root, PACKAGE)):
        dirs[:] = sorted(d for d in dirs if d != '__pycache__')
        for name in sorted(files):
            if name.endswith('.py'):
                path = osp.join(folder, name)
                parts = osp.relpath(path, root)[: -len('.py')].split(os.sep)
                is_package = parts[-1] == '__init__'
                found['.'.join(parts[:-1] if is_package else parts)] = (path, is_package)
    return found


def import_graph(root):
    """Module -> the set of modules of the package it imports (anywhere in its source)."""
    modules = _modules(root)
    graph = {}
    for module, (path, is_package) in modules.items():
        package = module if is_package else module.rpartition('.')[0]
        edges = set()
        with open(path, encoding='utf-8') as f:
            tree = ast.parse(f.read(), path)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ''
                if node.level:
                    parent = package.split('.')[: len(package.split('.')) - node.level + 1]
                    base = '.'.join(parent + ([node.module] if node.module else []))
                subs = [f'{base}.{alias.name}' for alias in node.names]
                names = [s for s in subs if s in modules] or [base]
            else:
                continue
            for name in names:
                # `import a.b.c` or a name inside a module: the deepest module of the package.
                while name and name not in modules:
                    name = name.rpartition('.')[0]
                if name:
                    edges.add(name)
        graph[module] = edges
    return graph


def cycles(graph):
    """The import circles of ``graph``: its strongly connected components of two or more
    modules and its self-imports, each sorted (Tarjan's algorithm, iterative)."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in graph.get(node, ()):
                    found.append(sorted(component))
    return found


def _write(root, files):
    for rel, text in files.items():
        path = osp.join(root, rel)
        os.makedirs(osp.dirname(path), exist_ok=True)
        with open(path, 'w') as f:
            f.write(text)


def test_the_walk_finds_circles_through_deferred_imports(tmp_path):
    _write(
        tmp_path,
        {
            'pvtv2_dense/__init__.py': '',
            'pvtv2_dense/a/__init__.py': 'from .x import f\n',
            'pvtv2_dense/a/x.py': 'def f():\n    from ..b import y\n',
            'pvtv2_dense/b/__init__.py': '',
            'pvtv2_dense/b/y.py': 'import pvtv2_dense.a.x\n',
            'pvtv2_dense/c.py': 'from . import errors\n',
            'pvtv2_dense/errors.py': 'import os\n',
        },
    )
    graph = import_graph(str(tmp_path))
    assert graph['pvtv2_dense.a.x'] == {'pvtv2_dense.b.y'}
    assert graph['pvtv2_dense.c'] == {'pvtv2_dense.errors'}
    assert cycles(graph) == [['pvtv2_dense.a.x', 'pvtv2_dense.b.y']]
    _write(tmp_path, {'pvtv2_dense/b/y.py': 'import os\n'})
    assert cycles(import_graph(str(tmp_path))) == []


def test_no_import_circle_in_the_package():
    found = cycles(import_graph(ROOT))
    assert not found, 'import circles (each a set of modules importing one another): ' + '; '.join(
        ' <-> '.join(c) for c in found
    )


def test_models_import_nothing_of_checkpoint():
    graph = import_graph(ROOT)
    offenders = sorted(
        f'{module} imports {target}'
        for module, targets in graph.items()
        if module.startswith('pvtv2_dense.models')
        for target in targets
        if target.startswith('pvtv2_dense.checkpoint')
    )
    assert not offenders, offenders
