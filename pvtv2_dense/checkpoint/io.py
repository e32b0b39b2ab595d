"""Reading checkpoint files of any origin safely (never unpickling arbitrary objects)."""

import os.path as osp

from ..errors import CheckpointError
from .safety import load_from_local_safely

_WRAPPERS = ('state_dict', 'model', 'module', 'model_state_dict')


def read_state_dict(filename: str) -> dict:
    """Tensors of a checkpoint file: ``.safetensors``, or a torch file (``.pth``, ``.bin``, ...).

    Torch files are read with ``weights_only=True`` plus mmengine's allow-list; a whole training
    checkpoint is unwrapped to its model weights.
    """
    if filename.endswith('.safetensors'):
        if not osp.isfile(filename):
            raise CheckpointError(f'checkpoint {filename} does not exist')
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            return load_file(filename)
        except (SafetensorError, OSError) as err:
            raise CheckpointError(
                f'checkpoint {filename} is not a readable .safetensors file ({err})'
            ) from None
    ckpt = load_from_local_safely(filename, map_location='cpu')
    for key in _WRAPPERS:
        if isinstance(ckpt, dict) and isinstance(ckpt.get(key), dict):
            ckpt = ckpt[key]
            break
    if not isinstance(ckpt, dict):
        raise CheckpointError(
            f'checkpoint {filename} holds a {type(ckpt).__name__}, not a state dict'
        )
    return ckpt
