"""Preparing weights ahead of a run: the cache of this machine, or a mirror folder for others."""

import filecmp
import os
import os.path as osp
import shutil

from ..errors import OutputError
from .fetch import fetch_weights
from .manifest import files_of, get_entry, load_manifest
from .models import converted_weights


def download(names, out_dir=None):
    """Fetch each name into the cache (released models also converted, so that a later run
    needs no network) and, with ``out_dir``, copy the files into a mirror folder.

    Args:
        names (list[str]): manifest names.
        out_dir (str, optional): a folder to fill in the mirror layout ``<name>/<file>``,
            for ``PVTV2_DENSE_MIRROR`` (a folder, or served over http).

    Returns:
        list[str]: one line per name saying where its file is.
    """
    for name in names:  # every name is checked before anything is fetched
        get_entry(name)
    lines = []
    for name in names:
        entry = get_entry(name)
        local, src = fetch_weights(name)
        where = local
        if entry.get('convert') and entry.get('config'):
            where = f'{local} (converted: {converted_weights(name)})'
        if out_dir:
            file = next(f for f, s in files_of(entry) if s is src)
            dst = osp.join(out_dir, name, file)
            if osp.exists(dst) and not filecmp.cmp(local, dst, shallow=False):
                raise OutputError(f'{dst} exists and differs from {name}: move it away first')
            os.makedirs(osp.dirname(dst), exist_ok=True)
            if not osp.exists(dst):
                shutil.copyfile(local, f'{dst}.tmp')
                os.replace(f'{dst}.tmp', dst)
            where = dst
        lines.append(f'{name}: {where}')
    return lines


def describe_manifest():
    """One line per manifest entry: name, kind, task, published metric, where it comes from."""
    lines = []
    for name, entry in load_manifest().items():
        metric = entry.get('metric')
        result = f'{metric["name"]} {metric["value"]} ({metric["dataset"]})' if metric else '-'
        source = entry['sources'][0]['url'] if entry['sources'] else f'by hand: {entry["page"]}'
        runs = 'runs by name' if entry.get('convert') and entry.get('config') else 'weights'
        lines.append(f'{name}  [{entry["kind"]}, {entry["task"]}, {runs}]  {result}  {source}')
    return lines
