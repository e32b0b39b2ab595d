"""The weights manifest (``manifest.yml`` beside this file): published checkpoints by short
stable names, with their sources, key layouts, hashes, configs and published results."""

import functools
import os.path as osp
import re

import yaml

from ..errors import CheckpointError, ConfigError, did_you_mean

MANIFEST = osp.join(osp.dirname(__file__), 'manifest.yml')
KINDS = ('backbone', 'model')
CONVERTERS = ('classifier', 'segformer', 'hf_glpn', 'glpdepth', 'panoptic_segformer', 'detector')
URL_SCHEMES = ('http://', 'https://', 'hf://')
_NAME = re.compile(r'^[a-z0-9][a-z0-9_.-]*$')
_HEX = re.compile(r'^[0-9a-f]+$')


def _check_source(name, src):
    where = f'manifest entry {name}'
    if not isinstance(src, dict) or not str(src.get('url', '')).startswith(URL_SCHEMES):
        raise ConfigError(f'{where}: each source needs a url starting with one of {URL_SCHEMES}')
    for key in ('sha256', 'hash_prefix'):
        if key in src and not _HEX.match(str(src[key])):
            raise ConfigError(f'{where}: {key} {src[key]!r} is not lower-case hex')
    if 'sha256' in src and len(src['sha256']) != 64:
        raise ConfigError(f'{where}: sha256 must have 64 hex digits')
    if 'layout' not in src or 'anchor' not in src:
        raise ConfigError(f'{where}: each source needs its key layout and the anchor it came from')


def check_entry(name, entry):
    """Raise :class:`ConfigError` unless ``entry`` is a well-formed manifest entry."""
    where = f'manifest entry {name}'
    if not _NAME.match(name):
        raise ConfigError(f'{where}: names are lower case, digits, and . _ - (no slashes)')
    if entry.get('kind') not in KINDS:
        raise ConfigError(f'{where}: kind must be one of {KINDS}, got {entry.get("kind")!r}')
    for key in ('task', 'dataset', 'eps'):
        if not entry.get(key):
            raise ConfigError(f'{where}: needs its {key}')
    sources = entry.get('sources')
    if not isinstance(sources, list):
        raise ConfigError(f'{where}: sources must be a list (empty when only a page offers it)')
    for src in sources:
        _check_source(name, src)
    if not sources and not (entry.get('file') and entry.get('page')):
        raise ConfigError(f'{where}: without sources it needs a file name and a page')
    if entry.get('convert') not in (None,) + CONVERTERS:
        raise ConfigError(f'{where}: convert must be one of {CONVERTERS}')
    if entry.get('convert') and not entry.get('config'):
        raise ConfigError(f'{where}: a runnable model needs the config that reproduces it')


@functools.cache
def load_manifest(path=MANIFEST) -> dict:
    """All entries of the manifest at ``path``, checked, by name.

    Args:
        path (str): a manifest file; the package's own by default.

    Returns:
        dict[str, dict]: name -> entry (see the comment at the top of ``manifest.yml``).
    """
    with open(path, encoding='utf-8') as f:
        entries = yaml.safe_load(f) or {}
    for name, entry in entries.items():
        check_entry(name, entry)
    return entries


def names(kind=None) -> list:
    """The manifest's names, of one ``kind`` ('backbone', 'model') or all."""
    return [n for n, e in load_manifest().items() if kind is None or e['kind'] == kind]


def is_zoo_name(source) -> bool:
    """Whether ``source`` is a manifest name (not a path, not a URL)."""
    return isinstance(source, str) and source in load_manifest()


def get_entry(name) -> dict:
    """The manifest entry ``name``, or a one-line :class:`CheckpointError` naming close ones."""
    entries = load_manifest()
    if name not in entries:
        raise CheckpointError(
            f'{name!r} is neither a file nor a URL nor a name of the weights manifest'
            f'{did_you_mean(name, entries)}; `python tools/download.py --list` lists the names'
        )
    return entries[name]


def files_of(entry) -> list:
    """``(file name, source or None)`` for each way ``entry`` can be had, in order: the name
    each file has in the cache and in a mirror (``<mirror>/<name>/<file>``)."""
    if not entry['sources']:
        return [(entry['file'], None)]
    return [(osp.basename(src['url'].rstrip('/')), src) for src in entry['sources']]


def configs_root() -> str:
    """The folder of the shipped configs: the installed package's ``.mim/configs`` (a wheel),
    else the repository's ``configs/`` (a source checkout)."""
    here = osp.dirname(osp.dirname(__file__))
    packaged = osp.join(here, '.mim', 'configs')
    return packaged if osp.isdir(packaged) else osp.join(osp.dirname(here), 'configs')


def config_of(name) -> str:
    """Path of the shipped config that reproduces the released model ``name``."""
    entry = get_entry(name)
    if not entry.get('convert'):
        why = entry.get('note') or 'it is ImageNet backbone weights, for init_cfg'
        raise CheckpointError(f'{name} is not a released model that runs by name: {why}')
    return osp.join(configs_root(), entry['config'])
