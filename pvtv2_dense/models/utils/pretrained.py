"""Pretrained weights as one registered init step, so that no model imports the checkpoint code.

A model whose ``init_cfg`` is ``dict(type='Pretrained', checkpoint=PATH, ...)`` (the spelling
every config uses, mmengine's) hands itself to the initializer registered in mmengine's
``WEIGHT_INITIALIZERS`` as ``PRETRAINED_STEP`` (``pvtv2_dense/checkpoint/init_step.py``), naming
which part it is; that step reads any supported checkpoint format. Importing ``pvtv2_dense``
registers it.
"""

from mmengine.registry import WEIGHT_INITIALIZERS
from torch import nn

# The name the checkpoint package registers its init step under.
PRETRAINED_STEP = 'PretrainedAnyFormat'


def init_from_pretrained(module: nn.Module, part: str) -> bool:
    """Load ``module``'s ``init_cfg`` checkpoint when it asks for one.

    Args:
        module (nn.Module): an mmengine ``BaseModule`` (its ``init_cfg`` is read).
        part (str): what ``module`` is, for the step: 'backbone', 'decode_head' or
            'classifier'.

    Returns:
        bool: True when the weights were loaded (the caller skips its random init).
    """
    cfg = module.init_cfg
    if not isinstance(cfg, dict) or cfg.get('type') != 'Pretrained':
        return False
    _step()(**{k: v for k, v in cfg.items() if k != 'type'}, part=part)(module)
    module._is_init = True
    return True


def _step():
    step = WEIGHT_INITIALIZERS.get(PRETRAINED_STEP)
    if step is None:  # a programming error: pvtv2_dense itself registers it on import
        raise RuntimeError(f'{PRETRAINED_STEP} is not registered; import pvtv2_dense first')
    return step


def convert_checkpoint_keys(part: str, state_dict: dict, layer_norm_eps=None, note=True) -> dict:
    """Our key names for a released ``part`` checkpoint (the step's ``convert``: 'classifier');
    ``state_dict`` itself when it has them already."""
    return _step().convert(part, state_dict, layer_norm_eps, note)
