"""Export of trained models to HF transformers: a folder that ``from_pretrained`` loads.

- ``PVTv2ImageClassifier`` -> ``PvtV2ForImageClassification``;
- ``EncoderDecoder`` with an all-MLP head (``AllMLPHead`` or ``FoldedAllMLPHead``) on PVTv2 or
  MiT -> ``SegformerForSemanticSegmentation``, labels from the dataset's classes;
- ``DepthEstimator`` with ``GLPNHead`` -> ``GLPNForDepthEstimation``, with its max depth.

The key mapping is the inverse of the HF -> ours converters (``pvtv2_dense.checkpoint``): each
HF tensor is replaced by its index, converted, and the indices read back, so the two directions
cannot drift apart. What HF's configs cannot express is refused in one line: linear SRA and
``qkv_bias=False`` in Segformer/GLPN (whose every LayerNorm has eps 1e-5, a fixed value), and a
LayerNorm eps other than the one eps HF's model has (our default is the official code's mix).
The folder also gets the image processor of the config's test pipeline
(:mod:`pvtv2_dense.deploy.hf_processors`), for ``transformers.pipeline``.
"""

import os
import os.path as osp
import shutil

import torch

from ..arch import PER_STAGE
from ..checkpoint import to_pvtv2_dense
from ..checkpoint.hf_glpn import hf_glpn_to_depth_estimator
from ..checkpoint.hf_segformer import segformer_to_pvtv2_dense
from ..errors import ExportError
from ..fileio.outputs import replace_path

# Every LayerNorm of HF Segformer and GLPN is nn.LayerNorm's default.
HF_SEGFORMER_EPS = 1e-5
# HF PvtV2's default, the official mix's value outside the patch embeddings and the reduction.
HF_PVT_EPS = 1e-6
TOLERANCE = 1e-5
# The largest output difference allowed when HF's one eps stands in for ours: the measured
# effect of the official mix -> 1e-5 on a b0 with random weights was 1.3e-5 in logits.
EPS_TOLERANCE = 1e-3

# The encoder options HF's SegformerConfig shares with ours.
_ENCODER_KEYS = ('num_channels', 'num_encoder_blocks', *PER_STAGE, 'hidden_act')


def _classifier_to_ours(hf_sd):
    backbone, _, _ = to_pvtv2_dense(hf_sd)
    out = {f'backbone.{k}': v for k, v in backbone.items()}
    for part in ('weight', 'bias'):
        out[f'head.{part}'] = hf_sd[f'classifier.{part}']
    return out


def _segformer_to_ours(hf_sd):
    return segformer_to_pvtv2_dense(hf_sd)[0]


def _glpn_to_ours(hf_sd):
    return hf_glpn_to_depth_estimator(hf_sd)[0]


def invert_converter(to_ours, hf_model, ours_sd):
    """HF state dict of ``hf_model``'s keys holding the tensors of ``ours_sd``.

    ``to_ours`` maps an HF state dict to ours, moving tensors and joining HF's separate key and
    value projections into our ``kv``; fed with one-element index tensors it shows where each HF
    tensor lands (a joined pair lands as two indices, first half first).

    Args:
        to_ours (callable): HF state dict -> our state dict.
        hf_model (nn.Module): the HF model (its keys and shapes).
        ours_sd (dict): our model's state dict.

    Returns:
        tuple[dict, list[str]]: the HF state dict, and the HF keys ours has no tensor for
        (parameters HF builds but never uses; they keep the HF model's values).
    """
    hf_sd = hf_model.state_dict()
    names = list(hf_sd)
    index = {k: torch.tensor([float(i)]) for i, k in enumerate(names)}
    out, unused = {}, set(names)
    for our_key, where in to_ours(index).items():
        if our_key not in ours_sd:
            continue
        value = ours_sd[our_key]
        parts = value.chunk(len(where), 0) if len(where) > 1 else [value]
        for i, part in zip(where.long().tolist(), parts):
            key = names[i]
            out[key] = part.reshape(hf_sd[key].shape).clone()
            unused.discard(key)
    for key in unused:
        out[key] = hf_sd[key]
    return out, sorted(unused)


def _ours_eps(eps):
    if eps is None:
        return (
            'the official PVTv2 mix (1e-5 in the patch embeddings and the reduction, 1e-6 '
            'elsewhere)'
        )
    return f'layer_norm_eps={eps:g}'


def _check_eps(backbone, want, what, exact=False):
    """The one LayerNorm eps HF's model gets (``want``, or ours, or HF PvtV2's 1e-6).

    HF configs have one eps for every norm; a model trained with another eps (our default is
    the official code's mix) is exported with HF's, and :func:`write_verified` measures and
    bounds the difference (:data:`EPS_TOLERANCE`). ``exact`` refuses it instead.
    """
    eps = backbone.arch['layer_norm_eps']
    target = want if want is not None else (eps if eps is not None else HF_PVT_EPS)
    if exact and eps != target:
        raise ExportError(
            f'{what} has one LayerNorm eps ({target:g}) in every norm and the model uses '
            f'{_ours_eps(eps)}; exact export refused (without --exact it exports with the '
            'measured difference)'
        )
    return target


def eps_note(model, hf_model):
    """A line saying that HF's one LayerNorm eps only approximates ours, or None."""
    config = hf_model.config
    if type(hf_model).__name__ in ('SegformerForSemanticSegmentation', 'GLPNForDepthEstimation'):
        theirs = HF_SEGFORMER_EPS
    else:
        theirs = getattr(config, 'backbone_config', None) or config
        theirs = theirs.layer_norm_eps
    eps = model.backbone.arch['layer_norm_eps']
    if eps == theirs:
        return None
    return (
        f'LayerNorm eps: the HF model has {theirs:g} in every norm, ours {_ours_eps(eps)}; '
        f'the difference is measured above (allowed up to {EPS_TOLERANCE:g}; --exact refuses)'
    )


def _check_segformer_encoder(backbone, what, exact=False):
    opts = backbone.arch
    if opts['linear_attention']:
        raise ExportError(f'{what} has no linear SRA (linear_attention=True) counterpart')
    if not opts['qkv_bias']:
        raise ExportError(f'{what} always has query/key/value biases; the model has qkv_bias=False')
    if not isinstance(opts['hidden_act'], str):
        raise ExportError(f'{what} needs hidden_act as a name, got {opts["hidden_act"]!r}')
    _check_eps(backbone, HF_SEGFORMER_EPS, what, exact)


def _folder_classes(cfg, num_labels):
    """The class folders (ImageNet: WordNet ids) of an ``ImageNetFolder`` test set, if present."""
    dataset = ((cfg or {}).get('test_dataloader') or {}).get('dataset') or {}
    if 'ImageNetFolder' not in str(dataset.get('type', '')):
        return None
    prefix = (dataset.get('data_prefix') or {}).get('img_path', 'train')
    root = osp.join(dataset.get('data_root') or '', prefix)
    if not osp.isdir(root):
        return None
    names = sorted(d for d in os.listdir(root) if osp.isdir(osp.join(root, d)))
    return names if len(names) == num_labels else None


def label_names(model, num_labels):
    """The label names of ``model``: its ``dataset_meta`` (checkpoint, or the config's dataset
    metainfo; see :func:`~pvtv2_dense.apis.build_model`), else the class folders of an
    ``ImageNetFolder`` test set (ImageNet's WordNet ids) when the data is present, else
    ``LABEL_i``."""
    classes = (getattr(model, 'dataset_meta', None) or {}).get('classes')
    if classes and len(classes) == num_labels:
        return [str(c) for c in classes]
    folders = _folder_classes(getattr(model, 'cfg', None), num_labels)
    return folders or [f'LABEL_{i}' for i in range(num_labels)]


def _labels(model, num_labels):
    names = label_names(model, num_labels)
    return dict(id2label=dict(enumerate(names)), label2id={n: i for i, n in enumerate(names)})


def classification_target(model, exact=False):
    """``(HF model, to_ours)`` for a :class:`~pvtv2_dense.models.PVTv2ImageClassifier`."""
    from transformers import PvtV2Config, PvtV2ForImageClassification

    what = "transformers' PvtV2Config"
    opts = dict(model.backbone.arch, layer_norm_eps=_check_eps(model.backbone, None, what, exact))
    if not isinstance(opts['hidden_act'], str):
        raise ExportError(f'{what} needs hidden_act as a name, got {opts["hidden_act"]!r}')
    num = model.num_classes
    if num < 1:
        raise ExportError(f'{what}: a classifier with num_classes={num} has no classification head')
    config = PvtV2Config(**opts, num_labels=num, **_labels(model, num))
    return PvtV2ForImageClassification(config), _classifier_to_ours


def segmentation_target(model, exact=False):
    """``(HF model, to_ours)`` for an ``EncoderDecoder`` with an all-MLP head on PVTv2."""
    from transformers import SegformerConfig, SegformerForSemanticSegmentation

    from ..models import AllMLPHead, PVTv2

    what = "transformers' SegformerConfig"
    head = model.decode_head
    if not isinstance(model.backbone, PVTv2) or not isinstance(head, AllMLPHead):
        raise ExportError(
            f'{what} is a PVTv2/MiT encoder with the all-MLP head; the model has '
            f'{type(model.backbone).__name__} + {type(head).__name__}'
        )
    if getattr(model, 'auxiliary_head', None) is not None:
        raise ExportError(f'{what} has no auxiliary head; the model has one')
    n = model.backbone.arch['num_encoder_blocks']
    if list(head.in_index) != list(range(n)) or tuple(model.backbone.out_indices) != tuple(
        range(n)
    ):
        raise ExportError(f'{what} decodes every encoder level; the head reads {head.in_index}')
    _check_segformer_encoder(model.backbone, what, exact)
    opts = model.backbone.arch
    config = SegformerConfig(
        **{k: opts[k] for k in _ENCODER_KEYS},
        decoder_hidden_size=head.channels,
        classifier_dropout_prob=head.dropout_ratio,
        semantic_loss_ignore_index=head.ignore_index,
        num_labels=head.num_classes,
        **_labels(model, head.num_classes),
    )
    return SegformerForSemanticSegmentation(config), _segformer_to_ours


def depth_target(model, exact=False):
    """``(HF model, to_ours)`` for a ``DepthEstimator`` with ``GLPNHead`` on PVTv2."""
    from transformers import GLPNConfig, GLPNForDepthEstimation

    from ..models import PVTv2
    from ..models.decode_heads.glpn_head import GLPNHead

    what = "transformers' GLPNConfig"
    head = model.decode_head
    if not isinstance(model.backbone, PVTv2) or not isinstance(head, GLPNHead):
        raise ExportError(
            f'{what} is a PVTv2/MiT encoder with the GLPN decoder; the model has '
            f'{type(model.backbone).__name__} + {type(head).__name__}'
        )
    _check_segformer_encoder(model.backbone, what, exact)
    opts = model.backbone.arch
    config = GLPNConfig(
        **{k: opts[k] for k in _ENCODER_KEYS},
        decoder_hidden_size=head.channels,
        max_depth=head.max_depth,
        head_in_index=-1,
    )
    return GLPNForDepthEstimation(config), _glpn_to_ours


def hf_target(model, exact=False):
    """The HF model (random weights) and the HF -> ours converter for ``model``.

    Args:
        model (nn.Module): ours.
        exact (bool): refuse a model whose LayerNorm eps HF's config cannot express, instead of
            exporting it with HF's (see :func:`_check_eps`).

    Raises:
        ExportError: naming what has no transformers counterpart.
    """
    from mmseg.models.segmentors import DepthEstimator, EncoderDecoder

    from ..models import PVTv2ImageClassifier

    if isinstance(model, PVTv2ImageClassifier):
        return classification_target(model, exact)
    if isinstance(model, DepthEstimator):
        return depth_target(model, exact)
    if isinstance(model, EncoderDecoder):
        return segmentation_target(model, exact)
    raise ExportError(
        f'{type(model).__name__} has no transformers counterpart (exported: '
        'PVTv2ImageClassifier, EncoderDecoder with an all-MLP head, DepthEstimator with GLPNHead)'
    )


def hf_outputs(hf_model, x):
    """The tensor HF's model answers that ours computes in ``mode='tensor'``."""
    out = hf_model(pixel_values=x)
    if hasattr(out, 'predicted_depth'):
        return out.predicted_depth[:, None]
    return out.logits


def to_hf(model, exact=False):
    """The HF model holding ``model``'s weights, and the HF keys that kept HF's init."""
    hf_model, to_ours = hf_target(model, exact)
    sd, unused = invert_converter(to_ours, hf_model, model.state_dict())
    hf_model.load_state_dict(sd, strict=True)
    return hf_model.eval(), unused


def check_sizes(hf_model):
    """The (batch, H, W) inputs of the comparison: one of them odd where HF's model takes it.

    HF's GLPN decoder joins pyramid levels without resizing them, so it needs H and W divisible
    by 32; ours (like the official GLPDepth code) resizes.
    """
    if type(hf_model).__name__ == 'GLPNForDepthEstimation':
        return ((1, 128, 160), (2, 96, 224))
    return ((1, 128, 160), (2, 97, 131))


def compare(model, hf_model, sizes=None, seed=0):
    """Largest absolute difference between ours (``mode='tensor'``) and HF's outputs.

    Args:
        model (nn.Module): ours, in eval mode.
        hf_model (nn.Module): the HF model, in eval mode.
        sizes (list[tuple[int, int, int]], optional): (batch, H, W) of each input; by default
            :func:`check_sizes`.
        seed (int): seed of the random inputs.
    """
    from .plain import TensorForward

    ours = TensorForward(model).eval()
    sizes = sizes or check_sizes(hf_model)
    g = torch.Generator().manual_seed(seed)
    worst = 0.0
    for batch, h, w in sizes:
        x = torch.randn(batch, 3, h, w, generator=g)
        with torch.no_grad():
            want, got = ours(x), hf_outputs(hf_model, x)
        if want.shape != got.shape:
            raise ExportError(f'HF output shape {tuple(got.shape)}, ours {tuple(want.shape)}')
        worst = max(worst, float((want - got).abs().max()))
    return worst


def export_hf(model, out_dir, tolerance=TOLERANCE, cfg=None, exact=False):
    """Write ``model`` as an HF transformers folder (config.json, model.safetensors and, from
    the config's test pipeline, preprocessor_config.json).

    The folder is written under a temporary name, loaded back with ``from_pretrained`` and
    compared with ``model`` before it is renamed to ``out_dir``.

    Args:
        model (nn.Module): ours, in eval mode (see
            :func:`~pvtv2_dense.deploy.plain.build_plain_model`).
        out_dir (str): the folder (absent or empty, or it is replaced).
        tolerance (float): the largest absolute output difference allowed.
        cfg (Config, optional): the full config whose test pipeline and data preprocessor the
            image processor reproduces; by default ``model.cfg`` (set by ``build_plain_model``).
            Without one no processor is written.
        exact (bool): refuse a LayerNorm eps HF's config cannot express; otherwise such a
            model is exported with HF's eps and the difference allowed up to
            :data:`EPS_TOLERANCE`.

    Returns:
        dict: ``hf_class``, ``max_diff``, ``unused`` (HF keys that kept HF's init),
        ``processor`` (its class name, or None), ``processor_notes`` (what it reproduces
        only approximately) and ``eps_note`` (None when the eps is HF's).
    """
    hf_model, unused = to_hf(model, exact)
    return write_verified(model, hf_model, unused, out_dir, tolerance, cfg)


def write_verified(model, hf_model, unused, out_dir, tolerance, cfg=None, save=None, diff=compare):
    """Write ``hf_model`` (and the image processor of ``cfg``) under a temporary name, load it
    back with ``from_pretrained``, compare it with ``model`` and only then rename it to
    ``out_dir``; the export functions of every task end here.

    Args:
        model (nn.Module): ours, eval mode.
        hf_model (nn.Module): its HF counterpart.
        unused (list[str]): HF keys that kept HF's init (reported back).
        out_dir (str): the folder (absent or empty, or it is replaced).
        tolerance (float): the largest absolute output difference allowed.
        cfg (Config, optional): see :func:`export_hf`; by default ``model.cfg``.
        save (callable, optional): ``save(hf_model, folder)``; HF's ``save_pretrained`` by
            default.
        diff (callable): ``diff(model, loaded)``, the largest absolute output difference.

    Returns:
        dict: see :func:`export_hf`.
    """
    from .hf_processors import image_processor

    cfg = cfg if cfg is not None else getattr(model, 'cfg', None)
    processor, notes = image_processor(hf_model, cfg) if cfg is not None else (None, [])
    note = eps_note(model, hf_model)
    if note is not None:
        tolerance = max(tolerance, EPS_TOLERANCE)
    tmp = f'{out_dir.rstrip(os.sep)}.tmp-{os.getpid()}'
    try:
        if save is None:
            hf_model.save_pretrained(tmp)
        else:
            save(hf_model, tmp)
        if processor is not None:
            processor.save_pretrained(tmp)
        loaded = type(hf_model).from_pretrained(tmp).eval()
        max_diff = diff(model, loaded)
        if not max_diff <= tolerance:
            why = ' with its one LayerNorm eps' if note else ''
            raise ExportError(
                f'the HF model{why} differs from ours by {max_diff:.3g} (> {tolerance:g})'
            )
        replace_path(tmp, out_dir)
    finally:
        if osp.exists(tmp):
            shutil.rmtree(tmp)
    return dict(
        hf_class=type(hf_model).__name__,
        max_diff=max_diff,
        unused=unused,
        processor=type(processor).__name__ if processor is not None else None,
        processor_notes=notes,
        eps_note=note,
    )
