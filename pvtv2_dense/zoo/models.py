"""Released models by name: fetch, convert to our key layout once, build with their config."""

import os
import os.path as osp
import re

from ..checkpoint.sources import set_name_resolver
from ..errors import CheckpointError, ConfigError, did_you_mean
from .fetch import cache_dir, fetch_weights
from .manifest import config_of, get_entry, is_zoo_name, names


def _detector(sd):
    """mmdet-style detectors (RetinaNet, Mask R-CNN): the backbone in any PVTv2 layout, the
    neck and heads under mmdet's own names, which ours keep."""
    from ..checkpoint.formats import to_pvtv2_dense

    sd = {re.sub(r'^module\.', '', k): v for k, v in sd.items()}
    backbone = {k[len('backbone.') :]: v for k, v in sd.items() if k.startswith('backbone.')}
    if not backbone:
        raise CheckpointError('no backbone.* keys: not a whole detector checkpoint')
    ours = {f'backbone.{k}': v for k, v in to_pvtv2_dense(backbone)[0].items()}
    ours.update({k: v for k, v in sd.items() if not k.startswith('backbone.')})
    return ours


def convert(kind, state_dict) -> dict:
    """Our model's state dict for a released checkpoint's tensors.

    Args:
        kind (str): the manifest entry's ``convert`` (see ``manifest.CONVERTERS``).
        state_dict (dict): the downloaded file's tensors.

    Returns:
        dict: tensors under our model's key names.
    """
    from .. import checkpoint as ck

    if kind == 'classifier':
        from ..checkpoint.classifier import classifier_to_pvtv2_dense

        return classifier_to_pvtv2_dense(state_dict)
    if kind == 'segformer':
        return ck.segformer_to_pvtv2_dense(state_dict)[0]
    if kind == 'hf_glpn':
        from ..checkpoint.hf_glpn import hf_glpn_to_depth_estimator

        return hf_glpn_to_depth_estimator(state_dict)[0]
    if kind == 'glpdepth':
        from ..checkpoint.glpdepth import glpdepth_to_depth_estimator

        return glpdepth_to_depth_estimator(state_dict)[0]
    if kind == 'panoptic_segformer':
        from ..checkpoint.panoptic_segformer import panoptic_segformer_to_pvtv2_dense

        return panoptic_segformer_to_pvtv2_dense(state_dict)[0]
    if kind == 'detector':
        return _detector(state_dict)
    raise ConfigError(f'unknown manifest converter {kind!r}')


def converted_weights(name) -> str:
    """The released model ``name`` in our key layout: a file in the cache, converted once from
    the downloaded (safely read) checkpoint."""
    import torch

    from ..checkpoint.io import read_state_dict

    entry = get_entry(name)
    out = osp.join(cache_dir(), name, f'{name}.pvtv2_dense.pth')
    if osp.isfile(out):
        return out
    local, src = fetch_weights(name)
    try:
        ours = convert(entry['convert'], read_state_dict(local))
    except CheckpointError as err:
        raise CheckpointError(f'checkpoint {name} ({local}): {err}') from None
    os.makedirs(osp.dirname(out), exist_ok=True)
    meta = dict(zoo_name=name, source=src['url'] if src else entry.get('page'))
    torch.save(dict(state_dict=ours, meta=meta), f'{out}.tmp')
    os.replace(f'{out}.tmp', out)
    return out


def resolve_weights(name) -> str:
    """The local file a checkpoint name stands for: a released model's converted weights, or
    the downloaded backbone file (the backbone loader reads any PVTv2 layout)."""
    entry = get_entry(name)
    if entry['kind'] == 'model' and entry.get('convert'):
        return converted_weights(name)
    return fetch_weights(name)[0]


set_name_resolver(resolve_weights)


def resolve_model(name):
    """``(config path, converted checkpoint, cfg_options)`` of a model that runs by name."""
    config = config_of(name)
    entry = get_entry(name)
    return config, converted_weights(name), dict(entry.get('cfg_options') or {})


def is_model_name(arg) -> bool:
    """Whether a tool's argument is a manifest name rather than a file (a file of that name
    wins); :func:`resolve_model` then says whether it runs by name."""
    return is_zoo_name(arg) and not osp.exists(arg)


def init_model(model, checkpoint=None, device=None, cfg_options=None):
    """Build a model in eval mode: a released model by manifest name (fetched, converted and
    configured by the manifest), or a config with an optional checkpoint.

    Args:
        model (str | Config): a manifest name, a config path, or a Config.
        checkpoint (str, optional): weights (a path, URL or manifest name); a name's own
            converted weights by default.
        device (str, optional): torch device; cuda when present.
        cfg_options (dict, optional): config overrides, on top of the manifest's own.

    Returns:
        nn.Module: the model, with ``cfg`` and ``dataset_meta`` set.
    """
    from mmengine.config import Config

    from ..apis.inference import build_model, default_device

    options = dict(cfg_options or {})
    if isinstance(model, str) and is_model_name(model):
        model, weights, own = resolve_model(model)
        checkpoint = checkpoint or weights
        options = {**own, **options}
    if isinstance(model, str):
        if not osp.isfile(model):
            raise ConfigError(
                f'{model} is neither a config file nor a released model of the weights manifest'
                f'{did_you_mean(model, names())}'
            )
        config_path, cfg = model, Config.fromfile(model)
    else:
        config_path, cfg = None, model
    cfg.merge_from_dict(options)
    if checkpoint and isinstance(cfg.model.get('backbone'), dict):
        cfg.model.backbone.init_cfg = None  # the whole model's weights follow: no ImageNet fetch
    if checkpoint and is_zoo_name(checkpoint) and not osp.exists(checkpoint):
        checkpoint = resolve_weights(checkpoint)
    return build_model(cfg, checkpoint, device or default_device(), config_path)


def released_model_args(config, checkpoint=None, cfg_options=None):
    """For the tools: a manifest name given in place of a config becomes ``(its config, its
    converted weights unless a checkpoint is given, the manifest's cfg_options under the
    user's)``; anything else comes back as it is."""
    if not isinstance(config, str) or not is_model_name(config):
        return config, checkpoint, cfg_options
    path, weights, own = resolve_model(config)
    return path, checkpoint or weights, {**own, **(cfg_options or {})}


def infer_args(inputs, config, checkpoint, cfg_options):
    """tools/infer.py's ``NAME IMAGES...``: without a config the first input must be a released
    model name. Returns ``(images, config, checkpoint, cfg_options)``."""
    if config is None:
        if not inputs or not is_model_name(inputs[0]):
            raise ConfigError(
                'give --config and --checkpoint, or a released model name before the images '
                '(python tools/download.py --list names them)'
            )
        if not inputs[1:]:
            raise ConfigError('no images given after the model name')
        config, checkpoint, cfg_options = released_model_args(inputs[0], checkpoint, cfg_options)
        inputs = inputs[1:]
    return inputs, config, checkpoint, cfg_options
