"""Loading any supported PVTv2 checkpoint into our backbone, with a clear report."""

import re
from collections import defaultdict

import numpy as np
from mmengine.logging import print_log

from ..errors import CheckpointError
from .formats import to_pvtv2_dense
from .io import read_state_dict

# The implementation each checkpoint format comes from, and the ``layer_norm_eps`` that makes
# our backbone compute what it computes (None: the official code's eps per norm, see PVTv2).
FORMAT_NORM_EPS = {
    'official': ('the official PVTv2 / SegFormer code', None),
    'timm': ("timm (the official code's norms)", None),
    'hf_pvt_v2': ("HF transformers' PvtV2", 1e-6),
    'hf_segformer': ("HF transformers' Segformer / GLPN", 1e-5),
    'mmdet': ("mmdet's PVTv2 / mmseg's MiT", 1e-6),
}


def _num(eps):
    return np.format_float_scientific(eps, trim='-', exp_digits=1)


def _eps_text(eps):
    return (
        'the official per-norm eps (1e-5 / 1e-6)' if eps is None else f'eps {_num(eps)} everywhere'
    )


def norm_eps_hint(fmt):
    """Which backbone setting reproduces the outputs of a ``fmt`` checkpoint's implementation
    (for the converters to print); None for formats of no known implementation."""
    if fmt not in FORMAT_NORM_EPS:
        return None
    source, eps = FORMAT_NORM_EPS[fmt]
    if eps is None:
        return f"to reproduce {source}, leave the backbone's layer_norm_eps unset (the default)"
    return f'to reproduce {source}, set layer_norm_eps={_num(eps)} in the backbone'


def norm_eps_note(fmt, model_eps):
    """One line when a ``fmt`` checkpoint's own implementation normalises differently from a
    model with ``layer_norm_eps=model_eps``, saying which setting reproduces it; else None."""
    if fmt not in FORMAT_NORM_EPS:
        return None
    source, eps = FORMAT_NORM_EPS[fmt]
    if eps == model_eps:
        return None
    setting = 'leave layer_norm_eps unset' if eps is None else f'set layer_norm_eps={_num(eps)}'
    return (
        f'{source} uses {_eps_text(eps)} in its LayerNorms, this model {_eps_text(model_eps)}: '
        f"{setting} in the backbone to reproduce that implementation's outputs"
    )


def describe(state_dict) -> str:
    """Architecture facts readable from our-format backbone weights (depths, widths, ...)."""
    depths = defaultdict(int)
    widths, ratios = {}, {}
    linear = False
    for key, value in state_dict.items():
        m = re.match(r'^layers\.(\d+)\.blocks\.(\d+)\.', key)
        if m:
            depths[int(m[1])] = max(depths[int(m[1])], int(m[2]) + 1)
        m = re.match(r'^layers\.(\d+)\.patch_embed\.proj\.weight$', key)
        if m:
            widths[int(m[1])] = value.shape[0]
        m = re.match(r'^layers\.(\d+)\.blocks\.0\.mlp\.fc1\.weight$', key)
        if m:
            ratios[int(m[1])] = value.shape[0] / value.shape[1]
        if re.match(r'^layers\.\d+\.blocks\.\d+\.attn\.sr\.weight$', key) and value.shape[-1] == 1:
            linear = True
    stages = sorted(set(depths) | set(widths))

    def fmt(d):
        return ','.join(f'{d[s]:g}' if s in d else '?' for s in stages)

    return (
        f'depths {fmt(depths)}, hidden sizes {fmt(widths)}, mlp ratios {fmt(ratios)}, '
        f'linear SRA {"yes" if linear else "no"}'
    )


def load_pretrained(module, filename, prefix=None, strict=False, logger='current'):
    """Load a checkpoint in any known format into a :class:`PVTv2` backbone.

    Args:
        module (PVTv2): the backbone.
        filename (str): checkpoint path (``.pth``, ``.bin``, ``.safetensors``).
        prefix (str, optional): take only the keys under this prefix (e.g. ``'backbone.'``)
            before detecting the format. Defaults to None (wrapper prefixes are found alone).
        strict (bool): raise on missing or unexpected keys instead of reporting them.
        logger: mmengine logger name for the report.

    Returns:
        tuple[list, list]: missing and unexpected keys.

    Raises:
        CheckpointError: when a tensor's shape differs from the model's; the message says what
            the checkpoint is and what the config asked for.
    """
    sd = read_state_dict(filename)
    if prefix:
        sd = {k[len(prefix) :]: v for k, v in sd.items() if k.startswith(prefix)}
        if not sd:
            raise CheckpointError(f'checkpoint {filename} has no keys under prefix {prefix!r}')
    try:
        ours, fmt, _ignored = to_pvtv2_dense(sd)
    except CheckpointError as err:
        raise CheckpointError(f'checkpoint {filename}: {err}') from None
    own = module.state_dict()
    bad = [
        f'{k}: checkpoint {tuple(v.shape)} vs model {tuple(own[k].shape)}'
        for k, v in ours.items()
        if k in own and v.shape != own[k].shape
    ]
    if bad:
        raise CheckpointError(
            f'checkpoint {filename} ({fmt} format) does not fit the model: '
            f'checkpoint {describe(ours)}; config {describe(own)}; '
            f'first mismatches: {"; ".join(bad[:3])}'
        )
    note = norm_eps_note(fmt, getattr(module, 'arch', {}).get('layer_norm_eps'))
    if note:
        print_log(f'checkpoint {filename} ({fmt} format): {note}', logger=logger)
    result = module.load_state_dict(ours, strict=strict)
    missing = [k for k in result.missing_keys]
    unexpected = [k for k in result.unexpected_keys]
    print_log(
        f'loaded {filename} ({fmt} format): {len(ours) - len(unexpected)} tensors'
        + (f'; missing keys: {missing}' if missing else '')
        + (f'; unexpected keys: {unexpected}' if unexpected else ''),
        logger=logger,
    )
    return missing, unexpected
