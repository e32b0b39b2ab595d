"""Safe checkpoint loading on torch >= 2.6 for mmengine 0.10.

torch.load now defaults to ``weights_only=True``, which refuses the few non-tensor objects that
mmengine writes into its own checkpoints (the message hub's ``HistoryBuffer`` and numpy scalars
and arrays), so ``resume=True`` fails. We keep ``weights_only=True`` and allow-list exactly those
globals; any other pickled object is refused before it can run, with an error naming the file.
Checkpoints named by URL (``http(s)://``, ``hf://``) are downloaded (:mod:`.sources`) and then
read by the same loader, in place of mmengine's URL loader, which unpickles anything.
"""

import os.path as osp
import pickle

import numpy as np
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner import checkpoint as mmengine_checkpoint
from mmengine.runner.checkpoint import CheckpointLoader

from ..errors import CheckpointError
from .sources import HF_PREFIX, HTTP_PREFIXES, fetch_checkpoint


class UnsafeCheckpointError(CheckpointError, pickle.UnpicklingError):
    """A checkpoint holds pickled objects outside the allow-list; nothing of it was executed."""


def _not_loadable(filename: str, err: Exception, shown: str) -> CheckpointError:
    """Why torch could not read ``filename`` (named ``shown`` in the message), in words (torch's
    own message can be a bare ``101``: the byte it stumbled on)."""
    size = osp.getsize(filename)
    with open(filename, 'rb') as f:
        head = f.read(16)
    filename = shown
    expected = 'expected a file written by torch.save (.pth, .bin) or a .safetensors file'
    if size == 0:
        return CheckpointError(f'checkpoint {filename} is empty (0 bytes); {expected}')
    if head.startswith(b'PK'):  # torch.save's zip container
        return CheckpointError(
            f'checkpoint {filename} ({size} bytes) is truncated or corrupted: its zip archive '
            f'cannot be read ({str(err).strip().splitlines()[0][:80]}); copy or save it again'
        )
    if head.startswith(b'\x80'):  # a pickle stream: torch's legacy format, cut short
        return CheckpointError(
            f'checkpoint {filename} ({size} bytes) is truncated or corrupted: '
            f'{type(err).__name__} while unpickling; copy or save it again'
        )
    return CheckpointError(
        f'checkpoint {filename} ({size} bytes, starting {head[:8]!r}) is not a PyTorch '
        f'checkpoint; {expected}'
    )


def history_buffer_method(obj, name):
    """Stands in for ``getattr`` while unpickling, for HistoryBuffer's methods only.

    A HistoryBuffer pickles its statistics table as methods, i.e. ``getattr(HistoryBuffer,
    'mean')``. Allowing the real ``getattr`` would let a crafted checkpoint walk from any allowed
    object to ``eval``; this version answers only public methods of a HistoryBuffer.
    """
    if (obj is HistoryBuffer or isinstance(obj, HistoryBuffer)) and not name.startswith('_'):
        attr = getattr(obj, name, None)
        if callable(attr):
            return attr
    raise pickle.UnpicklingError(
        f'getattr({type(obj).__name__}, {name!r}) is not allowed in a checkpoint'
    )


def allowed_globals() -> list:
    """The globals mmengine/mmseg/mmdet checkpoints need beyond tensors and builtin containers."""
    multiarray = np.core.multiarray if hasattr(np, 'core') else np._core.multiarray
    dtype_classes = [
        type(np.dtype(t)) for t in ('float64', 'float32', 'float16', 'int64', 'int32', 'bool')
    ]
    return [
        HistoryBuffer,
        (history_buffer_method, 'builtins.getattr'),
        multiarray._reconstruct,
        multiarray.scalar,
        np.ndarray,
        np.dtype,
        *dtype_classes,
    ]


def load_from_local_safely(filename: str, map_location=None, source: str = None):
    """mmengine's local-file loader, with weights-only unpickling and a clear refusal.

    Args:
        filename (str): the local file.
        map_location: as for ``torch.load``.
        source (str, optional): what the user named (a URL the file was downloaded from),
            for the messages; defaults to ``filename``.
    """
    filename = osp.expanduser(filename)
    if source is None and not osp.isfile(filename):
        local = fetch_checkpoint(filename)  # a weights-manifest name (load_from=NAME), fetched
        if local != filename:
            source, filename = filename, local
    shown = f'{source} (downloaded to {filename})' if source else filename
    if not osp.isfile(filename):
        raise CheckpointError(f'checkpoint {shown} does not exist')
    try:
        return torch.load(filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        if not _is_refusal(err):
            raise _not_loadable(filename, err, shown) from None
        try:
            found = torch.serialization.get_unsafe_globals_in_checkpoint(filename)
        except Exception:  # not a zip checkpoint: the torch message has to do
            found = []
        reason = str(err).split('WeightsUnpickler error:')[-1].strip().splitlines()
        what = ', '.join(found) if found else (reason[0] if reason else 'unknown')
        raise UnsafeCheckpointError(
            f'refused to load checkpoint {shown}: it holds pickled objects that are not on '
            f"pvtv2_dense's allow-list ({what}); nothing in it was executed. If you made this file "
            'yourself and trust it, re-save its tensors with torch.save(state_dict).'
        ) from None
    except (EOFError, KeyError, RuntimeError, ValueError, UnicodeDecodeError) as err:
        raise _not_loadable(filename, err, shown) from None


def load_from_url_safely(url: str, map_location=None):
    """Download ``url`` (``http(s)://`` or ``hf://``) into its cache and read it with
    :func:`load_from_local_safely`; errors name the URL."""
    return load_from_local_safely(fetch_checkpoint(url), map_location, source=url)


def _is_refusal(err) -> bool:
    """Whether torch's weights-only unpickler refused an object (as opposed to bad bytes)."""
    return 'Weights only load failed' in str(err) or 'WeightsUnpickler' in str(err)


_installed = False


def install_safe_checkpoint_loading() -> None:
    """Allow-list mmengine's globals and route local checkpoint files and URLs through the safe
    loader."""
    global _installed
    if _installed:
        return
    torch.serialization.add_safe_globals(allowed_globals())
    CheckpointLoader.register_scheme(prefixes='', loader=load_from_local_safely, force=True)
    prefixes = HTTP_PREFIXES + (HF_PREFIX,)
    CheckpointLoader.register_scheme(prefixes=prefixes, loader=load_from_url_safely, force=True)
    # mmengine's torchvision://, open-mmlab:// and mmcls:// loaders call this one by name; its
    # torch.hub loader unpickles with weights_only=False.
    mmengine_checkpoint.load_from_http = load_from_url_safely
    _installed = True
