"""Checkpoints named by URL: ``http(s)://...`` and ``hf://owner/repo/path/in/repo``.

A URL is downloaded once into a local cache, and the downloaded file is then read like any
local file: ``weights_only=True`` plus the allow-list of :mod:`.safety` (or safetensors), so a
file from the network can run no code either.

- ``http(s)://``: torch hub's cache, ``<TORCH_HOME>/hub/checkpoints/<file name of the URL>``,
  the file mmengine's own ``load_from_http`` would use (a file already there is not fetched
  again); downloaded with ``torch.hub.download_url_to_file`` (under a temporary name, renamed
  when complete). In a distributed run rank 0 downloads first, the others then find the file.
- ``hf://owner/repo/path``: ``huggingface_hub.hf_hub_download`` into the Hugging Face cache
  (``HF_HOME`` / ``HF_HUB_CACHE``; ``HF_HUB_OFFLINE=1`` reads the cache only).
- a name of the weights manifest (``pvt_v2_b2``, ``segformer_mit-b0_ade20k-512x512``; see
  :mod:`pvtv2_dense.zoo`) when no file of that name exists: fetched into the zoo's cache or
  from the mirror ``PVTV2_DENSE_MIRROR``, hash-checked; a released model comes converted.
"""

import os
import os.path as osp
import re
import sys
from urllib.parse import urlparse

from ..errors import CheckpointError

HTTP_PREFIXES = ('http://', 'https://')
HF_PREFIX = 'hf://'
# What a manifest name looks like (no folder, no scheme), and file endings no name has.
_BARE_NAME = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]*$')
_CHECKPOINT_EXTS = ('.pth', '.pt', '.bin', '.ckpt', '.safetensors', '.pkl')


def is_url(source) -> bool:
    """Whether ``source`` names a checkpoint by URL (``http(s)://`` or ``hf://``)."""
    return isinstance(source, str) and source.startswith(HTTP_PREFIXES + (HF_PREFIX,))


def _first_line(err) -> str:
    lines = str(err).strip().splitlines()
    return lines[0] if lines else type(err).__name__


def _http_cache_path(url) -> str:
    import torch

    name = osp.basename(urlparse(url).path)
    if not name:
        raise CheckpointError(f'checkpoint URL {url} names no file (its path ends with /)')
    return osp.join(torch.hub.get_dir(), 'checkpoints', name)


def _download_http(url) -> str:
    import torch

    path = _http_cache_path(url)
    if osp.isfile(path):
        return path
    os.makedirs(osp.dirname(path), exist_ok=True)
    from mmengine.logging import print_log

    print_log(f'downloading checkpoint {url} to {path}', logger='current')
    try:
        torch.hub.download_url_to_file(url, path, progress=sys.stderr.isatty())
    except OSError as err:  # urllib's URLError and HTTPError are OSErrors
        raise CheckpointError(f'cannot download checkpoint {url}: {_first_line(err)}') from None
    return path


def _split_hf(source):
    """``hf://owner/repo/path/in/repo`` -> ``('owner/repo', 'path/in/repo')``."""
    parts = source[len(HF_PREFIX) :].split('/', 2)
    if len(parts) < 3 or not all(parts):
        raise CheckpointError(
            f'checkpoint {source}: expected hf://OWNER/REPO/FILE (a file in a Hugging Face '
            'model repository)'
        )
    return f'{parts[0]}/{parts[1]}', parts[2]


def _download_hf(source) -> str:
    repo_id, filename = _split_hf(source)
    try:
        from huggingface_hub import hf_hub_download
    except ImportError:
        raise CheckpointError(
            f'checkpoint {source} needs huggingface_hub: pip install huggingface_hub'
        ) from None
    try:
        return hf_hub_download(repo_id, filename)
    except Exception as err:  # its errors (repo or file not found, offline) have many classes
        raise CheckpointError(
            f'cannot download checkpoint {source}: {type(err).__name__}: {_first_line(err)}'
        ) from None


# Installed by pvtv2_dense.zoo, which sits above checkpoint/ (it converts released models with
# this package's converters): turns a weights-manifest name into a local file.
_name_resolver = None


def set_name_resolver(resolve):
    """Install ``resolve(name) -> local file`` for weights-manifest names (the zoo does so when
    it is imported, as ``import pvtv2_dense`` does)."""
    global _name_resolver
    _name_resolver = resolve


def _zoo_name(source) -> bool:
    """Whether ``source`` is a weights-manifest name and no file (a local file wins); a bare
    word that is neither raises the manifest's unknown-name error (close names included)."""
    if not isinstance(source, str) or osp.exists(source):
        return False
    from ..zoo.manifest import get_entry, is_zoo_name

    if is_zoo_name(source):
        return True
    if _BARE_NAME.match(source) and not source.endswith(_CHECKPOINT_EXTS):
        get_entry(source)
    return False


def fetch_checkpoint(source) -> str:
    """The local file of a checkpoint ``source``: a URL or manifest name downloaded into its
    cache (see the module docstring), a local path as given.

    Args:
        source (str): a file path, an ``http(s)://`` URL, ``hf://owner/repo/path`` or a
            name of the weights manifest.

    Returns:
        str: a local file path, to be read with the safe loader.

    Raises:
        CheckpointError: the download failed; the message names the URL.
    """
    if _zoo_name(source):
        if _name_resolver is None:
            raise CheckpointError(f'checkpoint {source}: import pvtv2_dense to resolve model names')
        download = _name_resolver
    elif not is_url(source):
        return source
    elif source.startswith(HF_PREFIX):
        return _download_hf(source)
    else:
        download = _download_http
    from mmengine.dist import get_dist_info

    rank, world_size = get_dist_info()
    if world_size > 1 and rank > 0:
        import torch

        torch.distributed.barrier()  # rank 0 downloads first
        return download(source)
    try:
        return download(source)
    finally:  # also when it failed: the other ranks then fail with the same message
        if world_size > 1:
            import torch

            torch.distributed.barrier()
