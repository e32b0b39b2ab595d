"""Getting a manifest entry's file: from the cache, a mirror, or its sources in order.

- Cache: ``<TORCH_HOME>/hub/pvtv2_dense/<name>/<file>``; a file there is used as it is (it was
  hash-checked when it was downloaded), so a second run needs no network.
- Mirror: the environment variable ``PVTV2_DENSE_MIRROR``, a base URL (``http(s)://``) or a
  folder, serving ``<mirror>/<name>/<file>`` (the layout ``tools/download.py --out`` writes).
  When it is set, only the mirror is asked: an offline cluster never waits on the internet.
- Sources: the manifest's URLs in order (publisher first); ``hf://owner/repo/file`` is fetched
  from ``$HF_ENDPOINT`` (default https://huggingface.co) ``/owner/repo/resolve/main/file``.

A download goes to a temporary name, is checked against the publisher's SHA-256 or hash prefix
when the manifest has one, and only then takes its name; a wrong hash removes it.
"""

import hashlib
import os
import os.path as osp
import sys
from urllib.parse import quote

from ..checkpoint.sources import _first_line, _split_hf
from ..errors import CheckpointError
from .manifest import files_of, get_entry

MIRROR_ENV = 'PVTV2_DENSE_MIRROR'


def cache_dir() -> str:
    """The zoo's download cache: ``<torch hub dir>/pvtv2_dense`` (``TORCH_HOME`` moves it)."""
    import torch

    return osp.join(torch.hub.get_dir(), 'pvtv2_dense')


def sha256_of(path) -> str:
    """SHA-256 of a file, hex."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


class HashMismatchError(CheckpointError):
    """A file's SHA-256 differs from the one its publisher gave."""


def check_hash(path, src, shown):
    """Raise a one-line :class:`CheckpointError` when ``path`` does not have the publisher's
    hash of ``src`` (nothing to check when the manifest has none)."""
    if not src or not (src.get('sha256') or src.get('hash_prefix')):
        return
    want = src.get('sha256') or src['hash_prefix']
    got = sha256_of(path)
    if not got.startswith(want):
        raise HashMismatchError(
            f'checkpoint {shown}: its SHA-256 {got[:16]}... does not match the published '
            f'{"SHA-256" if src.get("sha256") else "hash prefix"} {want}'
        )


def _https(url) -> str:
    if not url.startswith('hf://'):
        return url
    repo, path = _split_hf(url)
    endpoint = os.environ.get('HF_ENDPOINT', 'https://huggingface.co').rstrip('/')
    return f'{endpoint}/{repo}/resolve/main/{quote(path)}'


def _download(url, dst, src, shown):
    """Download ``url`` to ``dst`` (through a temporary name, hash-checked), or raise."""
    import torch
    from mmengine.logging import print_log

    os.makedirs(osp.dirname(dst), exist_ok=True)
    tmp = f'{dst}.download'
    print_log(f'downloading {shown} from {url} to {dst}', logger='current')
    try:
        torch.hub.download_url_to_file(_https(url), tmp, progress=sys.stderr.isatty())
    except OSError as err:  # urllib's URLError and HTTPError are OSErrors
        raise CheckpointError(f'cannot download {url}: {_first_line(err)}') from None
    try:
        check_hash(tmp, src, f'{shown} from {url}')
    except HashMismatchError as err:
        os.remove(tmp)
        raise HashMismatchError(f'{err}; the download was removed') from None
    os.replace(tmp, dst)
    return dst


def _from_mirror(name, mirror, choices):
    tried = []
    for file, src in choices:
        where = f'{mirror.rstrip("/")}/{name}/{file}'
        if mirror.startswith(('http://', 'https://')):
            try:
                return _download(where, osp.join(cache_dir(), name, file), src, name), src
            except HashMismatchError:
                raise
            except CheckpointError as err:
                tried.append(str(err))
        elif osp.isfile(osp.join(mirror, name, file)):
            path = osp.join(mirror, name, file)
            check_hash(path, src, f'{name} ({path})')
            return path, src
        else:
            tried.append(f'no file {osp.join(mirror, name, file)}')
    raise CheckpointError(f'{name} is not in the mirror {MIRROR_ENV}={mirror}: {"; ".join(tried)}')


def fetch_weights(name):
    """The local file of manifest entry ``name``, and the source it came from.

    Args:
        name (str): a manifest name.

    Returns:
        tuple[str, dict | None]: the local path, and its manifest source (its ``layout``
        says how its keys look); None for a file only a page offers.

    Raises:
        CheckpointError: unknown name, a failed download, a wrong hash; one line.
    """
    entry = get_entry(name)
    choices = files_of(entry)
    for file, src in choices:
        cached = osp.join(cache_dir(), name, file)
        if osp.isfile(cached):
            return cached, src
    mirror = os.environ.get(MIRROR_ENV)
    if mirror:
        return _from_mirror(name, mirror, choices)
    if not entry['sources']:
        raise CheckpointError(
            f'{name} has no direct download: get it by hand from {entry["page"]} and put it at '
            f'{osp.join(cache_dir(), name, entry["file"])} (or in the folder {MIRROR_ENV} names)'
        )
    failures = []
    for file, src in choices:
        try:
            return _download(src['url'], osp.join(cache_dir(), name, file), src, name), src
        except HashMismatchError:
            raise
        except CheckpointError as err:
            failures.append(str(err))
    raise CheckpointError(f'cannot get {name}: {"; ".join(failures)}')
