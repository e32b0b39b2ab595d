"""Checkpoints given for a whole model (a tool's argument, ``load_from``): read safely, and
check that they fit the model, hold finite weights, and (to resume) a training state."""

import os.path as osp
import re

from ..errors import CheckpointError
from .loading import describe
from .sources import is_url


def unwrap_model(model):
    """The model whose ``state_dict`` checkpoints store (drops DDP and TTA wrappers)."""
    from mmengine.model import BaseTTAModel, is_model_wrapper

    while is_model_wrapper(model) or isinstance(model, BaseTTAModel):
        model = model.module
    return model


def read_checkpoint(path):
    """Load a checkpoint file or URL (safe loading, see :mod:`.safety`) or raise a one-line
    :class:`CheckpointError`."""
    from mmengine.runner.checkpoint import _load_checkpoint

    if not is_url(path) and not osp.isfile(path):
        raise CheckpointError(f'checkpoint {path} does not exist')
    try:
        ckpt = _load_checkpoint(path, map_location='cpu')
    except CheckpointError:  # names the file and what is wrong with it
        raise
    except Exception as err:
        first = str(err).strip().splitlines()
        reason = first[0] if first else type(err).__name__
        raise CheckpointError(f'cannot read checkpoint {path}: {reason}') from None
    if not isinstance(ckpt, dict):
        raise CheckpointError(f'checkpoint {path} holds a {type(ckpt).__name__}, not a state dict')
    return ckpt


def first_non_finite(state_dict):
    """The name of the first floating-point tensor in ``state_dict`` holding NaN or inf, or None."""
    import torch

    for key, value in state_dict.items():
        if torch.is_tensor(value) and value.is_floating_point():
            if not bool(torch.isfinite(value).all()):
                return key
    return None


def check_finite(ckpt, path):
    """Raise a one-line :class:`CheckpointError` naming ``path`` and the first tensor of its
    weights (``ckpt['state_dict']`` or ``ckpt``) that holds NaN or inf."""
    bad = first_non_finite(ckpt.get('state_dict', ckpt))
    if bad is not None:
        raise CheckpointError(
            f'checkpoint {path} holds non-finite weights (NaN or inf), first in {bad}; '
            'it comes from a diverged run and cannot be evaluated'
        )


def check_resumable(ckpt, path, config_path):
    """Raise a one-line :class:`CheckpointError` naming ``path`` and ``config_path`` unless
    ``ckpt`` is a training checkpoint (weights plus optimizer state) that ``--resume`` can
    continue; a bare state dict (released weights) is for ``load_from`` (fine-tuning)."""
    if isinstance(ckpt.get('state_dict'), dict) and 'optimizer' in ckpt:
        return
    what = 'a bare state dict' if 'state_dict' not in ckpt else 'weights without optimizer state'
    raise CheckpointError(
        f'checkpoint {path} holds {what}, not a training run of config {config_path} to '
        f'resume; to start from these weights, drop --resume and pass --cfg-options '
        f'load_from={path}'
    )


def check_checkpoint(model, path, config_path=None):
    """Raise a one-line :class:`CheckpointError` unless ``path`` holds weights for ``model``.

    mmengine loads with ``strict=False`` and only warns, so a checkpoint of another variant
    would silently leave layers random. Here any shape mismatch, or any model tensor the
    checkpoint lacks, is an error; extra checkpoint tensors (e.g. an auxiliary head) are not.

    Args:
        model (nn.Module): the built model (wrappers are looked through).
        path (str): checkpoint file.
        config_path (str, optional): named in the message.

    Returns:
        dict: the loaded checkpoint.
    """
    ckpt = read_checkpoint(path)
    sd = ckpt.get('state_dict', ckpt)
    sd = {re.sub(r'^module\.', '', k): v for k, v in sd.items() if hasattr(v, 'shape')}
    model = unwrap_model(model)
    own = model.state_dict()
    # A model that converts other key layouts on load (the classifier) is checked on its view.
    convert = getattr(model, 'convert_state_dict', None)
    if convert is not None:
        sd = convert(sd)
    what = f'checkpoint {path} does not fit ' + (
        f'config {config_path}' if config_path else 'the model'
    )
    if not set(sd) & set(own):
        raise CheckpointError(
            f'{what}: no tensor names in common (checkpoint e.g. {next(iter(sd), "<empty>")!r}, '
            f'model e.g. {next(iter(own))!r})'
        )
    bad = [k for k in own if k in sd and tuple(sd[k].shape) != tuple(own[k].shape)]
    missing = [k for k in own if k not in sd]
    if bad:
        k = bad[0]
        msg = (
            f'{what}: {len(bad)} tensors differ in shape, e.g. {k}: checkpoint '
            f'{tuple(sd[k].shape)} vs model {tuple(own[k].shape)}'
        )
        ck_bb = {k[9:]: v for k, v in sd.items() if k.startswith('backbone.')}
        own_bb = {k[9:]: v for k, v in own.items() if k.startswith('backbone.')}
        if any(k.startswith('layers.') for k in ck_bb):
            msg += f'; backbone in checkpoint: {describe(ck_bb)}; in config: {describe(own_bb)}'
        raise CheckpointError(msg)
    if missing:
        raise CheckpointError(
            f'{what}: it lacks {len(missing)} of the model tensors, e.g. {missing[0]} '
            '(a backbone-only or other-task checkpoint?)'
        )
    return ckpt
