"""Export of mmdet's ``DeformableDETR`` on PVTv2 to HF transformers'
``DeformableDetrForObjectDetection`` with an HF ``PvtV2Backbone`` (``use_timm_backbone=False``,
``backbone_config=PvtV2Config(...)``), a folder that ``from_pretrained`` loads.

Plain, box refinement and two-stage all map. The key mapping is the inverse of the HF -> ours
converter (:mod:`pvtv2_dense.checkpoint.hf_deformable_detr`). What HF's model cannot express is
refused in one line (:func:`check_detr`): its input projection is a 1x1 conv + GroupNorm with 32
groups per backbone level (mmdet's ``ChannelMapper`` with ``kernel_size=1``, no activation, GN 32),
its sine position embedding is mmdet's with ``normalize=True, offset=-0.5``, eps 1e-6, scale 2pi,
temperature 10000, its decoder self- and cross-attention have one head count, its two-stage needs
box refinement, and its PvtV2 has one LayerNorm eps (another eps exports with the measured
difference, or is refused with ``exact``).
"""

import math

import torch

from ..checkpoint.hf_deformable_detr import HEAD_ALIASES, hf_deformable_detr_to_ours
from ..errors import ConfigError, InputError
from .hf import _check_eps, _labels, invert_converter, write_verified

WHAT = "transformers' DeformableDetrForObjectDetection"
TOLERANCE = 1e-5


def is_deformable_detr(model):
    """Whether ``model`` is mmdet's ``DeformableDETR`` (or a subclass: DINO is refused later)."""
    from mmdet.models.detectors import DeformableDETR

    return isinstance(model, DeformableDETR)


def _refuse(what):
    raise ConfigError(f'{WHAT} {what}')


def _check_neck(model, levels):
    from mmdet.models.necks import ChannelMapper

    neck = getattr(model, 'neck', None)
    if not isinstance(neck, ChannelMapper):
        _refuse(f'projects the backbone levels with ChannelMapper; the model has {neck!r:.60}')
    for conv in [*neck.convs, *(neck.extra_convs or [])]:
        gn = getattr(conv, 'gn', None)
        if conv.with_activation or gn is None or not isinstance(gn, torch.nn.GroupNorm):
            _refuse('has conv + GroupNorm and no activation in its input projection (neck)')
        if gn.num_groups != 32 or gn.eps != 1e-5 or not gn.affine:
            _refuse(
                f'has GroupNorm(32, eps 1e-5) in its input projection; the neck has '
                f'GroupNorm({gn.num_groups}, eps {gn.eps:g})'
            )
    if any(c.conv.kernel_size != (1, 1) for c in neck.convs):
        _refuse('projects each backbone level with a 1x1 conv; the neck has another kernel_size')
    if len(neck.convs) + len(neck.extra_convs or []) != levels:
        _refuse(f'has one projection per feature level ({levels}); the neck has another count')
    return neck


def _check_pos(pos, d):
    want = dict(num_feats=d // 2, normalize=True, offset=-0.5, eps=1e-6, temperature=10000)
    have = {k: getattr(pos, k) for k in want}
    if have != want or not math.isclose(pos.scale, 2 * math.pi):
        _refuse(f'has the sine position embedding {want}, scale 2pi; the model has {have}')


def _attn_dims(attn):
    return attn.embed_dims, attn.num_heads, attn.num_levels, attn.num_points


def _check_layers(model, levels):
    from mmcv.cnn.bricks.transformer import MultiScaleDeformableAttention

    d = model.embed_dims
    shapes = {}
    for part in ('encoder', 'decoder'):
        layers = getattr(model, part).layers
        for layer in layers:
            attn = layer.self_attn if part == 'encoder' else layer.cross_attn
            if (
                not isinstance(attn, MultiScaleDeformableAttention)
                or attn.value_proj.out_features != d
            ):
                _refuse(f'has multi-scale deformable attention on {d} dims in every {part} layer')
            ffn = layer.ffn
            relu = ffn.num_fcs == 2 and isinstance(ffn.layers[0][1], torch.nn.ReLU)
            if not relu or not ffn.add_identity or not isinstance(ffn.gamma2, torch.nn.Identity):
                _refuse(f'has a 2-layer ReLU FFN with a residual in every {part} layer')
            if any(n.eps != 1e-5 for n in layer.norms):
                _refuse(f'has LayerNorm eps 1e-5 in every {part} layer')
            key = (_attn_dims(attn), ffn.feedforward_channels)
            if part == 'decoder':
                key += (layer.self_attn.num_heads,)
            shapes.setdefault(part, set()).add(key)
        if len(shapes[part]) != 1:
            _refuse(f'has one shape for all {part} layers; the model has {len(shapes[part])}')
    ((enc, enc_ffn),) = shapes['encoder']
    ((dec, dec_ffn, dec_self_heads),) = shapes['decoder']
    if enc[2] != levels or dec[2] != levels:
        _refuse(f'attends to num_feature_levels={levels} levels; the attention has another count')
    if dec_self_heads != dec[1]:
        _refuse(
            f'has one decoder head count; self-attention has {dec_self_heads}, '
            f'cross-attention {dec[1]}'
        )
    return dict(
        encoder_layers=len(model.encoder.layers),
        decoder_layers=len(model.decoder.layers),
        encoder_attention_heads=enc[1],
        decoder_attention_heads=dec[1],
        encoder_n_points=enc[3],
        decoder_n_points=dec[3],
        encoder_ffn_dim=enc_ffn,
        decoder_ffn_dim=dec_ffn,
    )


def check_detr(model, exact=False):
    """The ``DeformableDetrConfig`` options of ``model`` and its PvtV2's LayerNorm eps, or a
    one-line refusal (``exact``: see :func:`~pvtv2_dense.deploy.hf.hf_target`).

    Raises:
        ConfigError: naming what HF's model cannot express.
    """
    from mmdet.models.dense_heads import DeformableDETRHead

    from ..models import PVTv2

    if not isinstance(model.backbone, PVTv2):
        _refuse(f'is exported with a PVTv2 backbone; the model has {type(model.backbone).__name__}')
    head = model.bbox_head
    if type(head) is not DeformableDETRHead or head.num_reg_fcs != 2:
        _refuse(f'has the DeformableDETRHead with 2 hidden box layers; got {type(head).__name__}')
    if not head.loss_cls.use_sigmoid:
        _refuse('classifies with sigmoids (no background class); the head uses softmax')
    if model.as_two_stage and not model.with_box_refine:
        _refuse('has two-stage only with box refinement (with_box_refine=True)')
    d, levels = model.embed_dims, model.num_feature_levels
    if model.as_two_stage and d != 256:
        _refuse(
            f'embeds two-stage proposals with d_model/2 features, mmdet with 128: '
            f'embed_dims must be 256, got {d}'
        )
    _check_neck(model, levels)
    _check_pos(model.positional_encoding, d)
    opts = _check_layers(model, levels)
    backbone = model.backbone
    eps = _check_eps(backbone, None, "transformers' PvtV2Config", exact)
    if not isinstance(backbone.arch['hidden_act'], str):
        _refuse(f'needs hidden_act as a name, got {backbone.arch["hidden_act"]!r}')
    return dict(
        opts,
        d_model=d,
        num_queries=model.num_queries,
        num_feature_levels=levels,
        two_stage=bool(model.as_two_stage),
        two_stage_num_proposals=model.num_queries,
        with_box_refine=bool(model.with_box_refine),
        num_labels=head.num_classes,
    ), eps


def detr_target(model, exact=False):
    """``(HF model with random weights, HF -> ours converter)`` for a Deformable DETR."""
    from transformers import DeformableDetrConfig, DeformableDetrForObjectDetection, PvtV2Config

    opts, eps = check_detr(model, exact)
    out_indices = list(model.backbone.out_indices)
    config = DeformableDetrConfig(
        use_timm_backbone=False,
        backbone=None,
        use_pretrained_backbone=False,
        backbone_config=PvtV2Config(
            **dict(model.backbone.arch, layer_norm_eps=eps), out_indices=out_indices
        ),
        activation_function='relu',
        position_embedding_type='sine',
        **opts,
        **_labels(model, opts['num_labels']),
    )
    n = len(out_indices)
    return DeformableDetrForObjectDetection(config), lambda sd: hf_deformable_detr_to_ours(sd, n)[0]


def to_hf_detr(model, exact=False):
    """The HF model holding ``model``'s weights, and the HF keys that kept HF's init.

    HF's input projection convs have biases where our neck may have none: those are zero.
    """
    hf_model, to_ours = detr_target(model, exact)
    sd, unused = invert_converter(to_ours, hf_model, model.state_dict())
    for key in list(unused):
        if key.startswith(HEAD_ALIASES):  # the same modules as the top-level heads
            sd[key] = sd[key.replace('model.decoder.', '', 1)]
            unused.remove(key)
        elif key.startswith('model.input_proj.') and key.endswith('.0.bias'):
            sd[key] = torch.zeros_like(sd[key])
            unused.remove(key)
    hf_model.load_state_dict(sd, strict=True)
    return hf_model.eval(), unused


def save_hf_detr(hf_model, folder):
    """``hf_model.save_pretrained(folder)`` (safetensors), box refinement and two-stage included.

    HF's model shares its first box (and two-stage class) head with ``model.decoder`` under a
    second name that its tied-weight patterns (``bbox_embed.[1-9]``) miss, so transformers
    4.57 refuses to save it; declaring that name tied keeps one copy, which ``from_pretrained``
    loads into both names (the same module).
    """
    hf_model._dynamic_tied_weights_keys = [r'^model\.decoder\.(bbox|class)_embed\.0\.']
    hf_model.save_pretrained(folder)


def _samples(batch_shape, img_shapes):
    from mmdet.structures import DetDataSample

    return [
        DetDataSample(metainfo=dict(batch_input_shape=batch_shape, img_shape=s)) for s in img_shapes
    ]


def pixel_mask(x, img_shapes):
    """HF's pixel mask (1 = image, 0 = padding) of a batch padded bottom-right, as mmdet pads."""
    mask = torch.zeros(x.shape[0], *x.shape[-2:], dtype=torch.long)
    for i, (h, w) in enumerate(img_shapes):
        mask[i, :h, :w] = 1
    return mask


def detr_outputs(model, hf_model, x, img_shapes=None):
    """Last-layer ``(logits, boxes)`` of ours and of HF's model on one preprocessed batch.

    Args:
        model (nn.Module): ours (mmdet ``DeformableDETR``), eval mode.
        hf_model (nn.Module): HF's ``DeformableDetrForObjectDetection``, eval mode.
        x (Tensor): the batch (N, 3, H, W), each image padded bottom-right.
        img_shapes (list[tuple[int, int]], optional): each image's (h, w); H, W when None.

    Returns:
        tuple: ``((logits, boxes), (hf_logits, hf_boxes))``, boxes normalized cx, cy, w, h.
    """
    img_shapes = img_shapes or [tuple(x.shape[-2:])] * x.shape[0]
    with torch.no_grad():
        cls, boxes = model(x, _samples(tuple(x.shape[-2:]), img_shapes), mode='tensor')
        out = hf_model(pixel_values=x, pixel_mask=pixel_mask(x, img_shapes))
    return (cls[-1], boxes[-1]), (out.logits, out.pred_boxes)


def check_inputs(model):
    """(batch, H, W, image shapes) of the comparison: one image, and a padded pair.

    Two-stage picks ``num_queries`` of the encoder's tokens, so the inputs give enough of them.
    """
    side = 64
    while (side // 8) * (side // 8 + 2) * 4 // 3 < model.num_queries:
        side += 32
    h, w = side, side + 32
    return ((1, h, w, None), (2, h, w, [(h, w), (h - 16, w - 32)]))


def compare_detr(model, hf_model, inputs=None, seed=0, dtype=torch.float32):
    """Largest absolute difference of logits and boxes, ours vs HF's, on random inputs.

    A model converted from HF's 91-id COCO labels (``model.hf_label_ids``, set by
    :func:`from_hf_detr`) is compared on the HF logits of its classes.
    """
    g = torch.Generator().manual_seed(seed)
    ids = getattr(model, 'hf_label_ids', None)
    worst = 0.0
    for batch, h, w, shapes in inputs or check_inputs(model):
        x = torch.randn(batch, 3, h, w, generator=g, dtype=torch.float64).to(dtype)
        ours, theirs = detr_outputs(model, hf_model, x, shapes)
        if ids is not None:
            theirs = (theirs[0][..., ids], theirs[1])
        for a, b in zip(ours, theirs):
            if a.shape != b.shape:
                raise InputError(f'HF output shape {tuple(b.shape)}, ours {tuple(a.shape)}')
            worst = max(worst, float((a - b).abs().max()))
    return worst


def export_hf_detr(model, out_dir, tolerance=TOLERANCE, cfg=None, exact=False):
    """Write a Deformable DETR as an HF transformers folder (config.json, model.safetensors and,
    from the config's test pipeline, preprocessor_config.json for ``pipeline('object-detection')``).

    The folder is written under a temporary name, loaded back with ``from_pretrained`` and
    compared with ``model`` (logits and normalized boxes, float32) before it is renamed.

    Args:
        model (nn.Module): ours (mmdet ``DeformableDETR``), eval mode.
        out_dir (str): the folder (absent or empty, or it is replaced).
        tolerance (float): the largest absolute output difference allowed.
        cfg (Config, optional): the full config whose test pipeline and data preprocessor the
            image processor reproduces; by default ``model.cfg``. Without one no processor is
            written.

    Returns:
        dict: ``hf_class``, ``max_diff``, ``unused`` (HF keys that kept HF's init),
        ``processor`` (its class name, or None), ``processor_notes`` and ``eps_note``.
    """
    hf_model, unused = to_hf_detr(model, exact)
    return write_verified(
        model, hf_model, unused, out_dir, tolerance, cfg, save=save_hf_detr, diff=compare_detr
    )


def from_hf_detr(hf_model, cfg):
    """Our model (plain definition, eval mode) holding an HF Deformable DETR's weights.

    Args:
        hf_model (nn.Module): HF's ``DeformableDetrForObjectDetection`` (PVTv2 backbone).
        cfg (Config): one of our Deformable DETR configs (see
            :func:`~pvtv2_dense.checkpoint.hf_deformable_detr.hf_detr_to_ours`).

    Returns:
        tuple[Config, nn.Module]: the config for ``tools/test.py`` and the model.
    """
    from mmengine.registry import MODELS, init_default_scope

    from ..checkpoint.hf_deformable_detr import hf_detr_to_ours
    from .plain import plain_model_cfg

    cfg, sd, meta, ids = hf_detr_to_ours(hf_model, cfg)
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    model = MODELS.build(plain_model_cfg(cfg.model))
    model.load_state_dict(sd, strict=True)
    model.dataset_meta = meta
    # Which HF label each class is (HF's 91-id COCO convention), for compare_detr.
    model.hf_label_ids = ids
    return cfg, model.eval()
