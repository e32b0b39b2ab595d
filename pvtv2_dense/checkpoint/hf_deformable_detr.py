"""HF transformers ``DeformableDetrForObjectDetection`` with a ``PvtV2Backbone`` -> our mmdet
``DeformableDETR`` with the PVTv2 backbone: the state dict and the model config.

The two are the same network (Zhu et al.'s Deformable DETR) under other names:

- HF's ``input_proj`` (a 1x1 conv + GroupNorm(32) per backbone level, then 3x3 stride-2 convs
  for the extra levels) is mmdet's ``ChannelMapper`` neck; HF's convs have biases, so the neck
  is built with ``bias=True``;
- HF's encoder/decoder layers (``fc1``/``fc2``, ``self_attn_layer_norm``, ...) are mmdet's
  ``ffn``/``norms``; HF's separate ``q_proj``/``k_proj``/``v_proj`` are the fused
  ``in_proj`` of mmcv's ``MultiheadAttention`` (query, key, value in that order);
- ``query_position_embeddings`` -> ``query_embedding``, ``reference_points`` ->
  ``reference_points_fc``, two-stage ``enc_output(_norm)`` -> ``memory_trans_fc/norm``,
  ``pos_trans`` -> ``pos_trans_fc``;
- ``class_embed.i`` / ``bbox_embed.i.layers.j`` -> ``bbox_head.cls_branches.i`` /
  ``reg_branches.i.(2j)`` (HF's ``model.decoder.{class,bbox}_embed`` are the same modules).

What our mmdet model cannot be built as is refused in one line (:func:`model_options`).
"""

import copy
import pickle
import re

import torch

from ..arch import DEFAULT_OPTIONS
from ..errors import CheckpointError, ConfigError
from .formats import to_pvtv2_dense

BACKBONE_PREFIX = 'model.backbone.conv_encoder.model.encoder.'
# HF's decoder holds its prediction heads under a second name (the same modules).
HEAD_ALIASES = ('model.decoder.bbox_embed.', 'model.decoder.class_embed.')

_RENAMES = [
    (r'^model\.level_embed$', 'level_embed'),
    (r'^model\.query_position_embeddings\.', 'query_embedding.'),
    (r'^model\.reference_points\.', 'reference_points_fc.'),
    (r'^model\.enc_output\.', 'memory_trans_fc.'),
    (r'^model\.enc_output_norm\.', 'memory_trans_norm.'),
    (r'^model\.pos_trans\.', 'pos_trans_fc.'),
    (r'^model\.pos_trans_norm\.', 'pos_trans_norm.'),
    (r'^class_embed\.(\d+)\.', r'bbox_head.cls_branches.\1.'),
]
_LAYER_PARTS = {
    'encoder': [
        (r'^self_attn\.', 'self_attn.'),
        (r'^self_attn_layer_norm\.', 'norms.0.'),
        (r'^fc1\.', 'ffn.layers.0.0.'),
        (r'^fc2\.', 'ffn.layers.1.'),
        (r'^final_layer_norm\.', 'norms.1.'),
    ],
    'decoder': [
        (r'^self_attn\.out_proj\.', 'self_attn.attn.out_proj.'),
        (r'^self_attn_layer_norm\.', 'norms.0.'),
        (r'^encoder_attn\.', 'cross_attn.'),
        (r'^encoder_attn_layer_norm\.', 'norms.1.'),
        (r'^fc1\.', 'ffn.layers.0.0.'),
        (r'^fc2\.', 'ffn.layers.1.'),
        (r'^final_layer_norm\.', 'norms.2.'),
    ],
}


def _rename(key, num_backbone_outs):
    """Our key for an HF key (None for the decoder's fused q/k/v parts and unknown keys)."""
    for pattern, repl in _RENAMES:
        new, n = re.subn(pattern, repl, key)
        if n:
            return new
    m = re.match(r'^bbox_embed\.(\d+)\.layers\.(\d+)\.(.*)$', key)
    if m:
        return f'bbox_head.reg_branches.{m[1]}.{2 * int(m[2])}.{m[3]}'
    m = re.match(r'^model\.input_proj\.(\d+)\.([01])\.(.*)$', key)
    if m:
        level, part = int(m[1]), 'conv' if m[2] == '0' else 'gn'
        if level < num_backbone_outs:
            return f'neck.convs.{level}.{part}.{m[3]}'
        return f'neck.extra_convs.{level - num_backbone_outs}.{part}.{m[3]}'
    m = re.match(r'^model\.(encoder|decoder)\.layers\.(\d+)\.(.*)$', key)
    if m:
        for pattern, repl in _LAYER_PARTS[m[1]]:
            rest, n = re.subn(pattern, repl, m[3])
            if n:
                return f'{m[1]}.layers.{m[2]}.{rest}'
    return None


def hf_deformable_detr_to_ours(hf_sd, num_backbone_outs):
    """Convert the state dict of HF's ``DeformableDetrForObjectDetection`` (PVTv2 backbone).

    Args:
        hf_sd (dict): HF's tensors (``model.state_dict()`` or a saved file).
        num_backbone_outs (int): how many levels come from the backbone (the rest of
            ``input_proj`` are extra levels).

    Returns:
        tuple[dict, list[str]]: our state dict and the HF keys left out (the decoder's second
        names of the prediction heads).
    """
    backbone = {
        k[len(BACKBONE_PREFIX) :]: v for k, v in hf_sd.items() if k.startswith(BACKBONE_PREFIX)
    }
    if not backbone:
        raise CheckpointError(
            f'not an HF Deformable DETR with a PvtV2Backbone: no {BACKBONE_PREFIX}* keys'
        )
    out = {f'backbone.{k}': v for k, v in to_pvtv2_dense(backbone, fmt='hf_pvt_v2')[0].items()}
    ignored, qkv = [], {}
    for key, value in hf_sd.items():
        if key.startswith(BACKBONE_PREFIX):
            continue
        if key.startswith(HEAD_ALIASES):
            ignored.append(key)
            continue
        m = re.match(
            r'^model\.decoder\.layers\.(\d+)\.self_attn\.([qkv])_proj\.(weight|bias)$', key
        )
        if m:
            qkv.setdefault((m[1], m[3]), {})[m[2]] = value
            continue
        new = _rename(key, num_backbone_outs)
        if new is None:
            raise CheckpointError(f'HF Deformable DETR key {key!r} has no counterpart in ours')
        out[new] = value
    for (layer, kind), parts in qkv.items():
        if sorted(parts) != ['k', 'q', 'v']:
            raise CheckpointError(f'decoder layer {layer} lacks one of q/k/v_proj.{kind}')
        fused = torch.cat([parts['q'], parts['k'], parts['v']], 0)
        out[f'decoder.layers.{layer}.self_attn.attn.in_proj_{kind}'] = fused
    return out, ignored


def _refuse(what):
    raise ConfigError(f"transformers' DeformableDetrConfig -> ours: {what}")


def _backbone_arch(backbone_config):
    arch = {k: getattr(backbone_config, k) for k in DEFAULT_OPTIONS if hasattr(backbone_config, k)}
    arch['depths'] = list(arch['depths'])
    return arch


def model_options(config):
    """Our ``DeformableDETR`` model options (to merge into an mmdet config's ``model``) for an
    HF ``DeformableDetrConfig`` with a PVTv2 backbone.

    Raises:
        ConfigError: naming what our mmdet model cannot express.
    """
    bb = config.backbone_config
    if config.use_timm_backbone or bb is None or bb.model_type != 'pvt_v2':
        _refuse(f'the backbone must be HF PvtV2 (backbone_config), got {config.backbone!r}')
    if config.position_embedding_type != 'sine':
        _refuse(f'position_embedding_type={config.position_embedding_type!r} (ours: sine)')
    if config.activation_function != 'relu':
        _refuse(f'activation_function={config.activation_function!r} (mmdet FFN: relu)')
    d = config.d_model
    if d % 32:
        _refuse(f'd_model={d} is not divisible by the 32 GroupNorm groups')
    if config.two_stage and (d != 256 or config.two_stage_num_proposals != config.num_queries):
        _refuse(
            'two-stage needs d_model=256 (mmdet embeds proposals with 128 features per '
            f'coordinate) and two_stage_num_proposals == num_queries; got {d}, '
            f'{config.two_stage_num_proposals} vs {config.num_queries}'
        )
    out_indices = list(bb.out_indices)
    levels = config.num_feature_levels
    if levels < len(out_indices):
        _refuse(f'num_feature_levels={levels} < {len(out_indices)} backbone outputs')
    arch = _backbone_arch(bb)
    widths = [arch['hidden_sizes'][i] for i in out_indices]
    enc_attn = dict(
        embed_dims=d,
        num_heads=config.encoder_attention_heads,
        num_levels=levels,
        num_points=config.encoder_n_points,
        batch_first=True,
    )
    dec_heads = config.decoder_attention_heads
    return dict(
        num_queries=config.num_queries,
        num_feature_levels=levels,
        with_box_refine=bool(config.with_box_refine),
        as_two_stage=bool(config.two_stage),
        backbone=dict(type='PVTv2', arch=dict(_delete_=True, **arch), out_indices=out_indices),
        neck=dict(
            type='ChannelMapper',
            in_channels=widths,
            kernel_size=1,
            out_channels=d,
            act_cfg=None,
            bias=True,
            norm_cfg=dict(type='GN', num_groups=32),
            num_outs=levels,
        ),
        encoder=dict(
            num_layers=config.encoder_layers,
            layer_cfg=dict(
                self_attn_cfg=enc_attn,
                ffn_cfg=dict(embed_dims=d, feedforward_channels=config.encoder_ffn_dim),
            ),
        ),
        decoder=dict(
            num_layers=config.decoder_layers,
            layer_cfg=dict(
                self_attn_cfg=dict(embed_dims=d, num_heads=dec_heads, batch_first=True),
                cross_attn_cfg=dict(
                    enc_attn, num_heads=dec_heads, num_points=config.decoder_n_points
                ),
                ffn_cfg=dict(embed_dims=d, feedforward_channels=config.decoder_ffn_dim),
            ),
            post_norm_cfg=None,
        ),
        positional_encoding=dict(num_feats=d // 2, normalize=True, offset=-0.5),
        bbox_head=dict(type='DeformableDETRHead', num_classes=config.num_labels, embed_dims=d),
    )


def class_names(config):
    """The label names of an HF config, in label order."""
    return tuple(config.id2label[i] for i in range(config.num_labels))


# HF's COCO checkpoints keep one label per COCO category id (0-90); unused ids are named so.
UNUSED_LABEL = 'N/A'


def label_ids(names, classes, where):
    """Which HF label answers for each of the config's classes.

    The labels map one to one when the counts agree; HF's COCO convention (label = COCO
    category id, ``N/A`` in the gaps, 91 labels) maps to the config's contiguous classes by
    name.

    Args:
        names (tuple[str]): the HF model's label names, in label order.
        classes (tuple[str] | None): the config's test set classes (None: unknown, kept).
        where (str): the config, for the message.

    Returns:
        list[int] | None: the HF label of each class, or None when the labels are kept as they
        are.

    Raises:
        ConfigError: the labels cannot be matched to the classes.
    """
    if classes is None or len(classes) == len(names):
        return None
    by_name = {n: i for i, n in enumerate(names)}
    missing = [c for c in classes if c not in by_name]
    extra = set(names) - set(classes) - {UNUSED_LABEL}
    if missing or extra:
        shown = f'; e.g. {missing[0]!r} is not an HF label' if missing else ''
        raise ConfigError(
            f'{where}: the test set has {len(classes)} classes, the HF model {len(names)} labels '
            f'that do not map to them by name{shown} (a model of other classes: use a config '
            'whose dataset metainfo lists its classes)'
        )
    return [by_name[c] for c in classes]


def select_labels(sd, ids, num_layers):
    """Keep the classification rows of ``ids`` in our state dict (in place).

    The two-stage encoder branch (index ``num_layers``) ranks proposals by its first channel
    alone (mmdet and HF alike), so that channel stays first there.
    """
    for key in [k for k in sd if k.startswith('bbox_head.cls_branches.')]:
        branch = int(key.split('.')[2])
        rows = ids if branch < num_layers else [0] + [i for i in ids if i != 0][: len(ids) - 1]
        sd[key] = sd[key][rows].clone()


def load_hf_detr(hf_dir):
    """HF's ``DeformableDetrForObjectDetection`` from a ``save_pretrained`` folder, eval mode."""
    from transformers import DeformableDetrConfig, DeformableDetrForObjectDetection

    try:
        raw, _ = DeformableDetrConfig.get_config_dict(hf_dir)
    except (OSError, ValueError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CheckpointError(f'{hf_dir}: not an HF model folder ({first})') from None
    if raw.get('model_type') != 'deformable_detr':
        raise CheckpointError(
            f'{hf_dir}: model_type {raw.get("model_type")!r}, expected deformable_detr'
        )
    config = DeformableDetrConfig.from_dict(raw)
    model_options(config)  # refuse before loading the weights
    try:  # transformers reads a .bin with torch.load(weights_only=True): a pickle is refused
        return DeformableDetrForObjectDetection.from_pretrained(hf_dir).eval()
    except (OSError, ValueError, RuntimeError, pickle.UnpicklingError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CheckpointError(f'{hf_dir}: cannot load its weights ({first})') from None


def hf_detr_to_ours(hf_model, cfg):
    """Our config and state dict for an HF Deformable DETR with a PVTv2 backbone.

    Args:
        hf_model (nn.Module): HF's ``DeformableDetrForObjectDetection``.
        cfg (Config): one of our Deformable DETR configs; its data, evaluation and runtime are
            kept, its ``model`` takes the HF model's shape.

    Returns:
        tuple[Config, dict, dict, list | None]: the config, our state dict, the
        ``dataset_meta`` (classes) and the HF label of each class (None: the same labels).

    Raises:
        ConfigError: the HF labels do not map to the test set's classes (see
            :func:`label_ids`).
    """
    from ..apis.inference import _dataset_meta

    config = hf_model.config
    opts = model_options(config)
    names = class_names(config)
    classes = (_dataset_meta(cfg) or {}).get('classes')
    ids = label_ids(names, tuple(classes) if classes else None, cfg.filename)
    if ids is not None:
        names = tuple(names[i] for i in ids)
        opts['bbox_head']['num_classes'] = len(ids)
    cfg = copy.deepcopy(cfg)
    cfg.merge_from_dict(dict(model=opts))
    cfg.model.backbone.pop('init_cfg', None)  # the weights come from the HF model
    sd, _ = hf_deformable_detr_to_ours(hf_model.state_dict(), len(opts['backbone']['out_indices']))
    if ids is not None:
        select_labels(sd, ids, opts['decoder']['num_layers'])
    return cfg, sd, dict(classes=names), ids
