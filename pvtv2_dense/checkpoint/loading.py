"""Loading any supported PVTv2 checkpoint into our backbone, with a clear report."""

import re
from collections import defaultdict

from mmengine.logging import print_log

from .formats import to_pvtv2_dense
from .io import read_state_dict


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
        ValueError: when a tensor's shape differs from the model's; the message says what the
            checkpoint is and what the config asked for.
    """
    sd = read_state_dict(filename)
    if prefix:
        sd = {k[len(prefix) :]: v for k, v in sd.items() if k.startswith(prefix)}
        if not sd:
            raise ValueError(f'checkpoint {filename} has no keys under prefix {prefix!r}')
    try:
        ours, fmt, _ignored = to_pvtv2_dense(sd)
    except ValueError as err:
        raise ValueError(f'checkpoint {filename}: {err}') from None
    own = module.state_dict()
    bad = [
        f'{k}: checkpoint {tuple(v.shape)} vs model {tuple(own[k].shape)}'
        for k, v in ours.items()
        if k in own and v.shape != own[k].shape
    ]
    if bad:
        raise ValueError(
            f'checkpoint {filename} ({fmt} format) does not fit the model.\n'
            f'  checkpoint: {describe(ours)}\n  config:     {describe(own)}\n'
            f'  first mismatches: {"; ".join(bad[:3])}'
        )
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
