"""State-dict formats of PVTv2 checkpoints, detected by their keys and mapped onto ours.

Formats (key names as the source code of each repository defines them):

- ``pvtv2_dense``: ours, ``layers.{i}.{patch_embed|blocks.{j}|norm}``.
- ``official``: whai362/PVT (branch v2, ``classification/pvt_v2.py``) and SegFormer's MiT
  encoders (NVlabs/SegFormer, ``mmseg/models/backbones/mix_transformer.py``),
  ``patch_embed{i+1}``, ``block{i+1}.{j}``, ``norm{i+1}``, fused ``attn.kv``.
- ``hf_pvt_v2``: huggingface/transformers ``PvtV2Model`` / ``PvtV2ForImageClassification``
  (``models/pvt_v2/modeling_pvt_v2.py``).
- ``hf_segformer``: the encoder of transformers' Segformer and GLPN models (4.x key names,
  ``models/segformer/modeling_segformer.py``, ``models/glpn/modeling_glpn.py``).
- ``timm``: huggingface/pytorch-image-models ``pvt_v2_*`` (``timm/models/pvt_v2.py``).
- ``mmdet``: open-mmlab/mmdetection 3.x ``PyramidVisionTransformerV2``
  (``mmdet/models/backbones/pvt.py``; fused q/k/v ``in_proj``, 1x1-conv FFN).

Everything else in a checkpoint (classifier, decode heads, optimizer state) is returned apart as
"ignored" keys, so that loading into a backbone can stay quiet about it.
"""

import re

import torch

from ..errors import CheckpointError

FORMATS = ('pvtv2_dense', 'official', 'hf_pvt_v2', 'hf_segformer', 'timm', 'mmdet')

# Full-model prefixes a backbone's keys may sit under.
_PREFIXES = ('backbone.', 'pvt_v2.', 'segformer.', 'glpn.', 'model.', 'module.', 'encoder.')

_SIGNATURES = {
    'pvtv2_dense': re.compile(r'^layers\.\d+\.(blocks\.\d+|patch_embed)\.'),
    'official': re.compile(r'^(block\d+\.\d+|patch_embed\d+)\.'),
    'hf_pvt_v2': re.compile(r'^layers\.\d+\.(blocks\.\d+\.attention|patch_embedding)\.'),
    'hf_segformer': re.compile(r'^(block\.\d+\.\d+|patch_embeddings\.\d+)\.'),
    'timm': re.compile(r'^stages\.\d+\.blocks\.\d+\.'),
    'mmdet': re.compile(r'^layers\.\d+\.1\.\d+\.attn\.attn\.in_proj_weight$'),
}

# Block-internal renames: (pattern, replacement) applied to the part after the block prefix.
_HF_PVT_BLOCK = [
    (r'^layer_norm_1\.', 'norm1.'),
    (r'^layer_norm_2\.', 'norm2.'),
    (r'^attention\.query\.', 'attn.q.'),
    (r'^attention\.key\.', 'attn.k.'),
    (r'^attention\.value\.', 'attn.v.'),
    (r'^attention\.proj\.', 'attn.proj.'),
    (r'^attention\.spatial_reduction\.', 'attn.sr.'),
    (r'^attention\.layer_norm\.', 'attn.norm.'),
    (r'^mlp\.dense1\.', 'mlp.fc1.'),
    (r'^mlp\.dwconv\.dwconv\.', 'mlp.dwconv.'),
    (r'^mlp\.dense2\.', 'mlp.fc2.'),
]
_HF_SEGFORMER_BLOCK = [
    (r'^layer_norm_1\.', 'norm1.'),
    (r'^layer_norm_2\.', 'norm2.'),
    (r'^attention\.self\.query\.', 'attn.q.'),
    (r'^attention\.self\.key\.', 'attn.k.'),
    (r'^attention\.self\.value\.', 'attn.v.'),
    (r'^attention\.self\.sr\.', 'attn.sr.'),
    (r'^attention\.self\.layer_norm\.', 'attn.norm.'),
    (r'^attention\.output\.dense\.', 'attn.proj.'),
    (r'^mlp\.dense1\.', 'mlp.fc1.'),
    (r'^mlp\.dwconv\.dwconv\.', 'mlp.dwconv.'),
    (r'^mlp\.dense2\.', 'mlp.fc2.'),
]
_OFFICIAL_BLOCK = [(r'^mlp\.dwconv\.dwconv\.', 'mlp.dwconv.')]
_MMDET_BLOCK = [
    (r'^attn\.attn\.out_proj\.', 'attn.proj.'),
    (r'^ffn\.layers\.0\.', 'mlp.fc1.'),
    (r'^ffn\.layers\.1\.', 'mlp.dwconv.'),
    (r'^ffn\.layers\.4\.', 'mlp.fc2.'),
]


def _strip_prefixes(state_dict):
    """Drop wrapper prefixes ('module.', 'backbone.', 'pvt_v2.', ...) until a format shows."""
    sd = dict(state_dict)
    for _ in range(4):
        if detect_format(sd, strict=False):
            return sd
        for prefix in _PREFIXES:
            inner = {k[len(prefix) :]: v for k, v in sd.items() if k.startswith(prefix)}
            if inner and detect_format(inner, strict=False):
                return inner
        for prefix in _PREFIXES:
            if any(k.startswith(prefix) for k in sd):
                sd = {k[len(prefix) :] if k.startswith(prefix) else k: v for k, v in sd.items()}
                break
        else:
            break
    return sd


def detect_format(state_dict, strict=True):
    """The format of a (prefix-free) backbone state dict; None or CheckpointError when unknown."""
    keys = list(state_dict)
    # mmdet's keys also match ours' loose 'layers.N.' shape, so test it first.
    for name in ('mmdet', 'hf_pvt_v2', 'pvtv2_dense', 'official', 'hf_segformer', 'timm'):
        if any(_SIGNATURES[name].match(k) for k in keys):
            return name
    if strict:
        sample = ', '.join(keys[:5])
        raise CheckpointError(
            f'not a PVTv2 checkpoint in any known format {FORMATS}; first keys: {sample}'
        )
    return None


def _rename_block_part(rest, rules):
    for pattern, repl in rules:
        new, n = re.subn(pattern, repl, rest)
        if n:
            return new
    return rest


def _map_key(key, fmt):
    """Our key for ``key`` in format ``fmt`` (with 'attn.k'/'attn.v' still split), or None."""
    if fmt == 'pvtv2_dense':
        return key if key.startswith('layers.') else None
    if fmt == 'official':
        m = re.match(r'^patch_embed(\d+)\.(.*)$', key)
        if m:
            return f'layers.{int(m[1]) - 1}.patch_embed.{m[2]}'
        m = re.match(r'^block(\d+)\.(\d+)\.(.*)$', key)
        if m:
            rest = _rename_block_part(m[3], _OFFICIAL_BLOCK)
            return f'layers.{int(m[1]) - 1}.blocks.{m[2]}.{rest}'
        m = re.match(r'^norm(\d+)\.(.*)$', key)
        return f'layers.{int(m[1]) - 1}.norm.{m[2]}' if m else None
    if fmt == 'hf_pvt_v2':
        m = re.match(r'^layers\.(\d+)\.patch_embedding\.(proj|layer_norm)\.(.*)$', key)
        if m:
            sub = 'proj' if m[2] == 'proj' else 'norm'
            return f'layers.{m[1]}.patch_embed.{sub}.{m[3]}'
        m = re.match(r'^layers\.(\d+)\.blocks\.(\d+)\.(.*)$', key)
        if m:
            return f'layers.{m[1]}.blocks.{m[2]}.{_rename_block_part(m[3], _HF_PVT_BLOCK)}'
        m = re.match(r'^layers\.(\d+)\.layer_norm\.(.*)$', key)
        return f'layers.{m[1]}.norm.{m[2]}' if m else None
    if fmt == 'hf_segformer':
        m = re.match(r'^patch_embeddings\.(\d+)\.(proj|layer_norm)\.(.*)$', key)
        if m:
            sub = 'proj' if m[2] == 'proj' else 'norm'
            return f'layers.{m[1]}.patch_embed.{sub}.{m[3]}'
        m = re.match(r'^block\.(\d+)\.(\d+)\.(.*)$', key)
        if m:
            return f'layers.{m[1]}.blocks.{m[2]}.{_rename_block_part(m[3], _HF_SEGFORMER_BLOCK)}'
        m = re.match(r'^layer_norm\.(\d+)\.(.*)$', key)
        return f'layers.{m[1]}.norm.{m[2]}' if m else None
    if fmt == 'timm':
        m = re.match(r'^patch_embed\.(.*)$', key)
        if m:
            return f'layers.0.patch_embed.{m[1]}'
        m = re.match(r'^stages\.(\d+)\.downsample\.(.*)$', key)
        if m:
            return f'layers.{m[1]}.patch_embed.{m[2]}'
        m = re.match(r'^stages\.(\d+)\.(blocks\.\d+\.|norm\.)(.*)$', key)
        return f'layers.{m[1]}.{m[2]}{m[3]}' if m else None
    if fmt == 'mmdet':
        m = re.match(r'^layers\.(\d+)\.0\.(projection|norm)\.(.*)$', key)
        if m:
            sub = 'proj' if m[2] == 'projection' else 'norm'
            return f'layers.{m[1]}.patch_embed.{sub}.{m[3]}'
        m = re.match(r'^layers\.(\d+)\.1\.(\d+)\.(.*)$', key)
        if m:
            return f'layers.{m[1]}.blocks.{m[2]}.{_rename_block_part(m[3], _MMDET_BLOCK)}'
        m = re.match(r'^layers\.(\d+)\.2\.(.*)$', key)
        return f'layers.{m[1]}.norm.{m[2]}' if m else None
    raise CheckpointError(f'unknown checkpoint format {fmt!r}; expected one of {FORMATS}')


def to_pvtv2_dense(state_dict, fmt=None):
    """Convert a backbone (or whole-model) state dict into our key names.

    Args:
        state_dict (dict): the checkpoint's tensors, wrapper prefixes allowed.
        fmt (str, optional): one of ``FORMATS``; detected from the keys when None.

    Returns:
        tuple[dict, str, list[str]]: our state dict, the format, and the keys left out
        (heads, classifiers and anything else that is not part of the backbone).
    """
    sd = _strip_prefixes(state_dict)
    fmt = fmt or detect_format(sd)
    out, ignored = {}, []
    for key, value in sd.items():
        new = _map_key(key, fmt)
        if new is None:
            ignored.append(key)
            continue
        if fmt == 'mmdet' and new.endswith(('attn.attn.in_proj_weight', 'attn.attn.in_proj_bias')):
            base, kind = new.rsplit('.attn.in_proj_', 1)
            dims = value.shape[0] // 3
            out[f'{base}.q.{kind}'] = value[:dims]
            out[f'{base}.kv.{kind}'] = value[dims:]
            continue
        if fmt == 'mmdet' and re.search(r'mlp\.fc[12]\.weight$', new):
            value = value.reshape(value.shape[:2])
        out[new] = value
    # HF splits the official fused kv projection in two: join them back (keys first).
    for key in [k for k in out if '.attn.k.' in k]:
        v_key = key.replace('.attn.k.', '.attn.v.')
        out[key.replace('.attn.k.', '.attn.kv.')] = torch.cat([out.pop(key), out.pop(v_key)], 0)
    return out, fmt, ignored


def to_official(state_dict):
    """Our backbone state dict -> the official PVT / SegFormer MiT key names."""
    out = {}
    for key, value in state_dict.items():
        m = re.match(r'^layers\.(\d+)\.(patch_embed|blocks|norm)\.(.*)$', key)
        if not m:
            raise CheckpointError(f'{key!r} is not a key of a PVTv2 backbone')
        stage = int(m[1]) + 1
        if m[2] == 'patch_embed':
            out[f'patch_embed{stage}.{m[3]}'] = value
        elif m[2] == 'norm':
            out[f'norm{stage}.{m[3]}'] = value
        else:
            rest = re.sub(r'^(\d+)\.mlp\.dwconv\.', r'\1.mlp.dwconv.dwconv.', m[3])
            out[f'block{stage}.{rest}'] = value
    return out
