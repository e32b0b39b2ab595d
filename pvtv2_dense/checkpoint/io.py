"""Reading checkpoint files of any origin safely (never unpickling arbitrary objects)."""

import os.path as osp

from ..errors import CheckpointError
from .safety import load_from_local_safely
from .sources import fetch_checkpoint, is_url

_WRAPPERS = ('state_dict', 'model', 'module', 'model_state_dict')


def read_state_dict(filename: str) -> dict:
    """Tensors of a checkpoint: ``.safetensors``, or a torch file (``.pth``, ``.bin``, ...), a
    local path or a URL (``http(s)://``, ``hf://``; downloaded first, see :mod:`.sources`).

    Torch files are read with ``weights_only=True`` plus mmengine's allow-list; a whole training
    checkpoint is unwrapped to its model weights.
    """
    source = filename if is_url(filename) else None
    local = fetch_checkpoint(filename)
    if filename.endswith('.safetensors'):
        if not osp.isfile(local):
            raise CheckpointError(f'checkpoint {filename} does not exist')
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            return load_file(local)
        except (SafetensorError, OSError) as err:
            raise CheckpointError(
                f'checkpoint {filename} is not a readable .safetensors file ({err})'
            ) from None
    ckpt = load_from_local_safely(local, map_location='cpu', source=source)
    for key in _WRAPPERS:
        if isinstance(ckpt, dict) and isinstance(ckpt.get(key), dict):
            ckpt = ckpt[key]
            break
    if not isinstance(ckpt, dict):
        raise CheckpointError(
            f'checkpoint {filename} holds a {type(ckpt).__name__}, not a state dict'
        )
    return ckpt
