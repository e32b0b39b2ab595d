"""Whole SegFormer models (encoder + all-MLP decode head) into our ``EncoderDecoder``.

Two sources carry the same weights under different names:

- HF transformers ``SegformerForSemanticSegmentation`` (4.x keys): ``segformer.encoder.*`` and
  ``decode_head.{linear_c.{i}.proj, linear_fuse, batch_norm, classifier}``.
- The official NVlabs/SegFormer checkpoints (mmseg 0.x): ``backbone.{patch_embed1, block1, ...}``
  and ``decode_head.{linear_c{1..4}.proj, linear_fuse.conv, linear_fuse.bn, linear_pred}``
  (their ``decode_head.conv_seg`` is unused by the official head and left out).

Ours: ``backbone.layers.*`` (see ``formats.py``) and ``decode_head.{linear_c.{i}.proj,
linear_fuse.conv, linear_fuse.bn, conv_seg}`` of :class:`~pvtv2_dense.models.AllMLPHead`.
"""

import re

import torch
from mmengine.logging import print_log

from ..errors import CheckpointError
from .formats import to_pvtv2_dense
from .io import read_state_dict

HEAD_FORMATS = ('pvtv2_dense', 'official', 'hf_segformer')
_BN = r'(weight|bias|running_mean|running_var|num_batches_tracked)'


def detect_head_format(head_sd):
    """Format of a decode-head state dict without its ``decode_head.`` prefix, or None."""
    keys = list(head_sd)
    if any(re.match(r'^linear_c\d+\.proj\.', k) for k in keys):
        return 'official'
    if any(re.match(r'^(batch_norm|classifier)\.', k) for k in keys):
        return 'hf_segformer'
    if 'linear_fuse.conv.weight' in head_sd and any(k.startswith('linear_c.') for k in keys):
        return 'pvtv2_dense'
    return None


def _head_key(key, fmt):
    if fmt == 'pvtv2_dense':
        return key
    if fmt == 'hf_segformer':
        if re.match(r'^linear_c\.\d+\.proj\.', key):
            return key
        if key == 'linear_fuse.weight':
            return 'linear_fuse.conv.weight'
        m = re.match(rf'^batch_norm\.{_BN}$', key)
        if m:
            return f'linear_fuse.bn.{m[1]}'
        m = re.match(r'^classifier\.(weight|bias)$', key)
        return f'conv_seg.{m[1]}' if m else None
    m = re.match(r'^linear_c(\d+)\.proj\.(.*)$', key)
    if m:
        return f'linear_c.{int(m[1]) - 1}.proj.{m[2]}'
    if re.match(rf'^linear_fuse\.(conv\.weight|bn\.{_BN})$', key):
        return key
    m = re.match(r'^linear_pred\.(weight|bias)$', key)
    return f'conv_seg.{m[1]}' if m else None


def segformer_head_to_pvtv2_dense(state_dict):
    """Convert the decode head of a SegFormer checkpoint into :class:`AllMLPHead` keys.

    Args:
        state_dict (dict): a whole-model state dict (keys under ``decode_head.``) or the head's.

    Returns:
        tuple[dict, str, list[str]]: the head's state dict (no prefix), the source format and
        the head keys left out (e.g. the official head's unused ``conv_seg``).

    Raises:
        CheckpointError: when no all-MLP decode head is found.
    """
    head = {
        k[len('decode_head.') :]: v for k, v in state_dict.items() if k.startswith('decode_head.')
    }
    head = head or dict(state_dict)
    fmt = detect_head_format(head)
    if fmt is None:
        sample = ', '.join(list(state_dict)[:5])
        raise CheckpointError(
            'no SegFormer all-MLP decode head (official, HF or ours) in the checkpoint; '
            f'first keys: {sample}'
        )
    out, ignored = {}, []
    for key, value in head.items():
        new = _head_key(key, fmt)
        if new is None:
            ignored.append(key)
        else:
            out[new] = value
    return out, fmt, ignored


def segformer_to_pvtv2_dense(state_dict):
    """Convert a whole SegFormer (HF ``SegformerForSemanticSegmentation`` or official) model.

    Args:
        state_dict (dict): the checkpoint's tensors.

    Returns:
        tuple[dict, str, list[str]]: our ``EncoderDecoder`` state dict (``backbone.*`` and
        ``decode_head.*``), the source format, and the keys left out.
    """
    backbone, fmt, ignored = to_pvtv2_dense(state_dict)
    head, head_fmt, head_ignored = segformer_head_to_pvtv2_dense(state_dict)
    out = {f'backbone.{k}': v for k, v in backbone.items()}
    out.update({f'decode_head.{k}': v for k, v in head.items()})
    return out, f'{fmt}+{head_fmt}', ignored + [f'decode_head.{k}' for k in head_ignored]


def describe_head(head_sd) -> str:
    """Widths readable from our-format head weights: levels, E and the number of classes."""
    widths = [
        head_sd[f'linear_c.{i}.proj.weight'].shape[1]
        for i in range(len(head_sd))
        if f'linear_c.{i}.proj.weight' in head_sd
    ]
    cls = head_sd.get('conv_seg.weight')
    e = head_sd['linear_fuse.conv.weight'].shape[0] if 'linear_fuse.conv.weight' in head_sd else '?'
    return (
        f'in_channels {widths}, channels (E) {e}, '
        f'num_classes {cls.shape[0] if cls is not None else "?"}'
    )


def load_head_pretrained(head, filename, logger='current'):
    """Load the decode head of a SegFormer checkpoint (any supported format) into ``head``.

    Raises:
        CheckpointError: when the checkpoint has no head or its shapes differ from the config's.
    """
    try:
        ours, fmt, _ = segformer_head_to_pvtv2_dense(read_state_dict(filename))
    except CheckpointError as err:
        raise CheckpointError(f'checkpoint {filename}: {err}') from None
    own = head.state_dict()
    bad = [
        f'{k}: checkpoint {tuple(v.shape)} vs model {tuple(own[k].shape)}'
        for k, v in ours.items()
        if k in own and v.shape != own[k].shape
    ]
    missing = sorted(set(own) - set(ours))
    if bad or missing:
        raise CheckpointError(
            f'checkpoint {filename} ({fmt} decode head) does not fit the AllMLPHead.\n'
            f'  checkpoint: {describe_head(ours)}\n  config:     {describe_head(own)}\n'
            + (f'  mismatches: {"; ".join(bad[:3])}\n' if bad else '')
            + (f'  missing: {missing[:5]}' if missing else '')
        )
    with torch.no_grad():
        head.load_state_dict(ours, strict=True)
    print_log(f'loaded the decode head of {filename} ({fmt} format)', logger=logger)
