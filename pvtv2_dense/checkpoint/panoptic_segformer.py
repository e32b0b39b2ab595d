"""Official Panoptic SegFormer checkpoints (mmdet 2.x layout) -> our ``PanopticSegFormer`` keys.

The official code (github.com/zhiqi-li/Panoptic-SegFormer, e.g. ``panoptic_segformer_pvtv2b5_2x
.pth``) keeps the whole transformer inside its head and uses mmcv 1.x's generic layer names;
mmdet 3.3's ``DeformableDETR`` keeps the transformer on the detector with named sub-layers:

- ``bbox_head.transformer.encoder.layers.i.attentions.0`` -> ``encoder.layers.i.self_attn``,
  ``ffns.0`` -> ``ffn`` (the norms keep their names);
- ``bbox_head.transformer.decoder.layers.i.attentions.{0,1}`` -> ``decoder.layers.i.{self_attn,
  cross_attn}``;
- ``bbox_head.transformer.level_embeds`` / ``reference_points`` -> ``level_embed`` /
  ``reference_points_fc``; ``bbox_head.query_embedding`` -> ``query_embedding``;
- mask heads: ``things_mask_head`` / ``stuff_mask_head`` -> ``thing_mask_decoder`` /
  ``stuff_mask_decoder``; in each block ``attn`` -> ``cross_attn`` (``linear_l{k}.0`` ->
  ``level_fcs.{k-1}``, ``linear.0`` -> ``mask_fc``), ``head_norm1/2`` -> ``norm1/2``,
  ``mlp.fc1/fc2`` -> ``ffn.0/2``, ``self_attention.qkv/proj`` -> ``self_attn.in_proj_*/out_proj``
  (the same [q; k; v] row order), ``norm3`` -> ``norm_self``; the tail ``attnen`` ->
  ``final_attn``; ``cls_stuff_branches`` -> ``stuff_cls_branches``;
- the backbone goes through :func:`~pvtv2_dense.checkpoint.formats.to_pvtv2_dense` (the official
  PVT layout), the ChannelMapper neck, class and box branches and the stuff queries are unchanged.

Left out: ``reg_branches2`` and ``cls_thing_branches``, which the official head builds for the
mask decoder but trains with zero loss weight and never uses at inference.
"""

import re

from ..errors import CheckpointError
from .formats import to_pvtv2_dense

_DROPPED = re.compile(r'^bbox_head\.(reg_branches2|cls_thing_branches)\.')
# Keys under bbox_head.transformer. (mmcv 1.x generic layers -> mmdet 3.3 named ones).
_TRANSFORMER = [
    (r'^(en|de)coder\.layers\.(\d+)\.attentions\.0\.', r'\1coder.layers.\2.self_attn.'),
    (r'^decoder\.layers\.(\d+)\.attentions\.1\.', r'decoder.layers.\1.cross_attn.'),
    (r'^(en|de)coder\.layers\.(\d+)\.ffns\.0\.', r'\1coder.layers.\2.ffn.'),
    (r'^(en|de)coder\.layers\.(\d+)\.norms\.', r'\1coder.layers.\2.norms.'),
    (r'^level_embeds$', 'level_embed'),
    (r'^reference_points\.', 'reference_points_fc.'),
]
# Other keys under bbox_head. and the neck.
_HEAD = [
    (r'^bbox_head\.query_embedding\.', 'query_embedding.'),
    (r'^bbox_head\.cls_stuff_branches\.', 'bbox_head.stuff_cls_branches.'),
    (r'^bbox_head\.(cls_branches|reg_branches|stuff_query)\.', r'bbox_head.\1.'),
    (r'^neck\.', 'neck.'),
]


def _level_fc(m):
    # linear_l1..3 are the per-level head mixers, our level_fcs.0..2.
    return f'{m[1]}level_fcs.{int(m[2]) - 1}.'


_MASK_HEAD = re.compile(r'^bbox_head\.(things|stuff)_mask_head\.(.+)$')
_MASK_PARTS = [
    (r'^blocks\.(\d+)\.attn\.', r'layers.\1.cross_attn.'),
    (r'^blocks\.(\d+)\.head_norm1\.', r'layers.\1.norm1.'),
    (r'^blocks\.(\d+)\.head_norm2\.', r'layers.\1.norm2.'),
    (r'^blocks\.(\d+)\.norm3\.', r'layers.\1.norm_self.'),
    (r'^blocks\.(\d+)\.mlp\.fc1\.', r'layers.\1.ffn.0.'),
    (r'^blocks\.(\d+)\.mlp\.fc2\.', r'layers.\1.ffn.2.'),
    (r'^blocks\.(\d+)\.self_attention\.qkv\.(weight|bias)$', r'layers.\1.self_attn.in_proj_\2'),
    (r'^blocks\.(\d+)\.self_attention\.proj\.', r'layers.\1.self_attn.out_proj.'),
    (r'^attnen\.', 'final_attn.'),
]
# Inside a mask attention (after the renames above).
_ATTN_PARTS = [
    (r'^(.*(?:cross|final)_attn\.)linear_l(\d)\.0\.', _level_fc),
    (r'^(.*(?:cross|final)_attn\.)linear\.0\.', r'\1mask_fc.'),
    (r'^(.*(?:cross|final)_attn\.(?:q|k|v|proj)\.(?:weight|bias))$', r'\1'),
]


def _first_match(rules, key):
    for pattern, repl in rules:
        new, n = re.subn(pattern, repl, key)
        if n:
            return new
    return None


def _mask_head_key(family, rest):
    new = _first_match(_MASK_PARTS, rest)
    if new is not None and re.search(r'(cross|final)_attn\.', new):
        new = _first_match(_ATTN_PARTS, new)  # None for parts our attention lacks
    if new is None:
        return None
    decoder = 'thing_mask_decoder' if family == 'things' else 'stuff_mask_decoder'
    return f'bbox_head.{decoder}.{new}'


def _head_key(key):
    """Our name for a non-backbone official key, or None when it has no counterpart."""
    m = _MASK_HEAD.match(key)
    if m:
        return _mask_head_key(m[1], m[2])
    if key.startswith('bbox_head.transformer.'):
        return _first_match(_TRANSFORMER, key[len('bbox_head.transformer.') :])
    return _first_match(_HEAD, key)


def panoptic_segformer_to_pvtv2_dense(state_dict: dict) -> tuple:
    """Convert an official Panoptic SegFormer state dict (PVTv2 backbone).

    Args:
        state_dict (dict): the tensors of the official checkpoint's ``state_dict``
            (``backbone.*``, ``neck.*``, ``bbox_head.*``; a ``module.`` prefix is allowed).

    Returns:
        tuple[dict, list[str]]: our state dict and the official keys that were left out.

    Raises:
        CheckpointError: when the dict is not in the official layout (no mask-head or transformer
            keys) or its backbone is not a PVTv2 one.
    """
    sd = {k[len('module.') :] if k.startswith('module.') else k: v for k, v in state_dict.items()}
    if not any(_MASK_HEAD.match(k) for k in sd) or not any(
        k.startswith('bbox_head.transformer.') for k in sd
    ):
        sample = ', '.join(list(sd)[:5])
        raise CheckpointError(
            'not an official Panoptic SegFormer state dict (expected bbox_head.transformer.* '
            f'and bbox_head.things_mask_head.* keys); first keys: {sample}'
        )
    backbone = {k[len('backbone.') :]: v for k, v in sd.items() if k.startswith('backbone.')}
    if not backbone:
        raise CheckpointError('the state dict has no backbone.* keys')
    ours_backbone, fmt, ignored = to_pvtv2_dense(backbone)
    if fmt != 'official':
        raise CheckpointError(
            f'its backbone is in the {fmt!r} layout; the official PVTv2 one (block1.0.attn.q, '
            'patch_embed1.proj, ...) is expected'
        )
    out = {'backbone.' + k: v for k, v in ours_backbone.items()}
    ignored = ['backbone.' + k for k in ignored]
    for key, value in sd.items():
        if key.startswith('backbone.'):
            continue
        new = None if _DROPPED.match(key) else _head_key(key)
        if new is None:
            ignored.append(key)
        else:
            out[new] = value
    return out, ignored
