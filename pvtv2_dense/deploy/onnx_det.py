"""ONNX graphs of the detectors, post-processing included: what a deployment reads.

Deformable DETR (plain, box refinement, two-stage) exports as mmdet computes it in ``predict``:
backbone, neck, encoder, decoder and head, then the head's post-processing (sigmoid scores, the
top ``test_cfg.max_per_img`` of all query x class pairs, boxes as x1, y1, x2, y2 in pixels of
the network input, clipped to it). Outputs: ``boxes`` (N, K, 4), ``scores`` (N, K), ``labels``
(N, K) int64. Boxes are in input coordinates: divide by the preprocessing's scale factor for the
photo's. Every image of a batch has the input's size (no padding mask).

The multi-scale deformable attention runs through :mod:`.msda` (GridSample); the rest of the
forward is mmdet's own, fed with level sizes read from the feature maps rather than a tensor,
and with the encoder's reference points and two-stage proposals built with ``arange`` (mmdet's
``linspace`` would fix the level sizes in a dynamic graph).
Detectors whose post-processing needs non-maximum suppression (RetinaNet, ATSS, GFL, Mask
R-CNN), Sparse R-CNN and Panoptic SegFormer are refused in one line naming the model and why
(:func:`check_detector`).
"""

import copy
import types

import torch
from torch import nn

from ..errors import ExportError
from .msda import swap_msda

DET_OUTPUTS = ('boxes', 'scores', 'labels')

# Why each family cannot be exported yet, by detector class name.
_NMS = (
    'its post-processing runs non-maximum suppression per class, which this exporter does not '
    'emit yet (export covers the Deformable DETR family, whose top-k needs none)'
)
REFUSALS = {
    'RetinaNet': _NMS,
    'ATSS': _NMS,
    'GFL': _NMS,
    'MaskRCNN': _NMS + '; its mask head also runs on the boxes NMS keeps',
    'SparseRCNN': 'its RoI heads pool features per proposal box with mmcv RoIAlign, which has '
    'no ONNX form here',
    'PanopticSegFormer': 'its mask-wise merging keeps a data-dependent number of masks per '
    'image, which a static-output ONNX graph cannot express',
}


def is_detector(model):
    from mmdet.models.detectors import BaseDetector

    return isinstance(model, BaseDetector)


def _refuse(name):
    reason = REFUSALS.get(name, 'only the Deformable DETR family of detectors is exported')
    raise ExportError(f'cannot export {name} to ONNX: {reason}')


def check_config(cfg):
    """Refuse, before any model is built, a config whose model type has no ONNX export."""
    name = str((cfg.get('model') or {}).get('type', '')).rsplit('.', 1)[-1]
    if name in REFUSALS:
        _refuse(name)


def check_detector(model):
    """Raise a one-line :class:`ExportError` naming ``model`` and why it has no ONNX export."""
    from mmdet.models.detectors import DeformableDETR

    from ..models.layers.msda_attention import DeformableDETRMSDA

    # Exactly these: subclasses such as Panoptic SegFormer add heads the graph does not hold.
    if type(model) not in (DeformableDETR, DeformableDETRMSDA):
        _refuse(type(model).__name__)


class DetrOnnx(nn.Module):
    """mmdet ``DeformableDETR.predict`` as a module of one tensor (see the module docstring).

    Args:
        model (nn.Module): the detector (a copy: its attentions are swapped).
        max_per_img (int): detections kept per image (the head's ``test_cfg.max_per_img``).
    """

    def __init__(self, model, max_per_img=100):
        super().__init__()
        self.model = model
        self.max_per_img = max_per_img

    def _pre_transformer(self, feats):
        """mmdet's ``pre_transformer`` for unpadded images, level sizes kept as ints."""
        m = self.model
        flat, pos, shapes = [], [], []
        for lvl, feat in enumerate(feats):
            n, c, h, w = feat.shape
            embed = m.positional_encoding(None, input=feat)
            flat.append(feat.flatten(2).transpose(1, 2))
            pos.append(embed.flatten(2).transpose(1, 2) + m.level_embed[lvl].view(1, 1, -1))
            shapes.append((h, w))
        ratios = feats[0].new_ones(feats[0].shape[0], len(feats), 2)
        common = dict(spatial_shapes=shapes, level_start_index=None, valid_ratios=ratios)
        encoder = dict(feat=torch.cat(flat, 1), feat_mask=None, feat_pos=torch.cat(pos, 1))
        return dict(encoder, **common), dict(memory_mask=None, **common)

    def forward(self, inputs):
        m = self.model
        encoder_in, decoder_in = self._pre_transformer(m.extract_feat(inputs))
        encoder_out = m.forward_encoder(**encoder_in)
        query_in, head_in = m.pre_decoder(**encoder_out)
        decoder_in.update(query_in)
        head_in.update(m.forward_decoder(**decoder_in))
        classes, boxes = m.bbox_head(head_in['hidden_states'], head_in['references'])
        return detr_postprocess(classes[-1], boxes[-1], inputs.shape[-2:], self.max_per_img)


def _grid(h, w, like):
    """Pixel centres (x, y) of an h x w level in units of pixels, (h * w, 2); arange keeps h and
    w symbolic where linspace makes torch.export fix them."""
    y = torch.arange(h, dtype=like.dtype, device=like.device) + 0.5
    x = torch.arange(w, dtype=like.dtype, device=like.device) + 0.5
    return torch.stack([x[None, :].expand(h, w), y[:, None].expand(h, w)], -1).reshape(-1, 2)


def _size(h, w, like):
    one = like.new_ones(())
    return torch.stack([one * w, one * h])


def encoder_reference_points(spatial_shapes, valid_ratios, device=None):
    """mmdet's ``DeformableDetrTransformerEncoder.get_encoder_reference_points`` for unpadded
    images (valid ratios of 1): every level's pixel centres, normalized, for every level."""
    points = torch.cat(
        [_grid(h, w, valid_ratios) / _size(h, w, valid_ratios) for h, w in spatial_shapes]
    )
    n = valid_ratios.shape[0]
    return points[None, :, None].expand(n, -1, len(spatial_shapes), -1)


def encoder_output_proposals(self, memory, memory_mask, spatial_shapes):
    """mmdet's ``DeformableDETR.gen_encoder_output_proposals`` for unpadded images (two-stage):
    one proposal per pixel (its centre, a size of 0.05 x 2^level), in inverse-sigmoid form."""
    n = memory.shape[0]
    proposals = []
    for lvl, (h, w) in enumerate(spatial_shapes):
        centre = _grid(h, w, memory) / _size(h, w, memory)
        wh = torch.full_like(centre, 0.05 * 2.0**lvl)
        proposals.append(torch.cat([centre, wh], -1)[None].expand(n, -1, -1))
    proposals = torch.cat(proposals, 1)
    valid = ((proposals > 0.01) & (proposals < 0.99)).all(-1, keepdim=True)
    proposals = torch.log(proposals / (1 - proposals)).masked_fill(~valid, float('inf'))
    memory = self.memory_trans_norm(self.memory_trans_fc(memory.masked_fill(~valid, 0.0)))
    return memory, proposals


def detr_postprocess(logits, boxes, size, k):
    """mmdet ``DeformableDETRHead``'s post-processing, batched: the top ``k`` sigmoid scores of
    all query x class pairs, their boxes (cx, cy, w, h of 1) as clipped x1, y1, x2, y2 pixels.
    """
    n, queries, num_classes = logits.shape
    scores, index = logits.sigmoid().flatten(1).topk(k, dim=1)
    labels = index % num_classes
    query = torch.div(index, num_classes, rounding_mode='floor')
    picked = torch.gather(boxes, 1, query[..., None].expand(-1, -1, 4))
    centre, wh = picked[..., :2], picked[..., 2:]
    xyxy = torch.cat([centre - wh / 2, centre + wh / 2], -1)
    h, w = size
    one = xyxy.new_ones(())
    scale = torch.stack([one * w, one * h, one * w, one * h])
    xyxy = torch.minimum((xyxy * scale).clamp(min=0), scale)
    return xyxy, scores, labels


def detector_module(model):
    """``(module, output names)`` of a detector's ONNX graph (refused: see
    :func:`check_detector`)."""
    check_detector(model)
    copied = copy.deepcopy(model).eval()
    if not swap_msda(copied):
        raise ExportError(f'{type(model).__name__}: no multi-scale deformable attention found')
    # Level sizes stay symbolic (mmdet builds these grids with linspace).
    copied.encoder.get_encoder_reference_points = encoder_reference_points
    copied.gen_encoder_output_proposals = types.MethodType(encoder_output_proposals, copied)
    k = int((model.bbox_head.test_cfg or {}).get('max_per_img', 100))
    k = min(k, model.num_queries * model.bbox_head.num_classes)
    return DetrOnnx(copied, k).eval(), DET_OUTPUTS


def reference_detections(model, x):
    """mmdet's own ``predict`` (mmcv attention, mmdet post-processing) of a batch of unpadded
    images: a list of (boxes, scores, labels) numpy arrays, one per image."""
    from mmdet.structures import DetDataSample

    shape = tuple(x.shape[-2:])
    samples = [
        DetDataSample(metainfo=dict(batch_input_shape=shape, img_shape=shape, scale_factor=(1, 1)))
        for _ in range(x.shape[0])
    ]
    with torch.no_grad():
        out = model.predict(x, samples, rescale=False)
    return [
        tuple(getattr(s.pred_instances, k).numpy() for k in ('bboxes', 'scores', 'labels'))
        for s in out
    ]


def match_detections(got, want, size, tolerance):
    """Pair each ONNX detection with one of mmdet's: same label, score within ``tolerance``,
    box corners within ``tolerance`` x the longer image side (pixels).

    Detections whose score lies within ``tolerance`` of the last kept score may differ (a tie
    at the top-k cut).

    Returns:
        tuple[float, float]: the largest score and box difference of the pairs.

    Raises:
        ExportError: a detection has no counterpart.
    """
    import numpy as np

    (g_boxes, g_scores, g_labels), (w_boxes, w_scores, w_labels) = got, want
    box_tol = tolerance * max(size)
    cut = min(float(g_scores.min(initial=1)), float(w_scores.min(initial=1))) + tolerance
    free = np.ones(len(w_scores), bool)
    worst_score = worst_box = 0.0
    for box, score, label in zip(g_boxes, g_scores, g_labels):
        score_diff = np.abs(w_scores - score)
        box_diff = np.abs(w_boxes - box).max(-1)
        ok = free & (w_labels == label) & (score_diff <= tolerance) & (box_diff <= box_tol)
        if not ok.any():
            if score <= cut:
                continue
            raise ExportError(
                f'ONNX Runtime detection (label {int(label)}, score {float(score):.4f}, box '
                f'{np.round(box, 2).tolist()}) has no PyTorch counterpart within {tolerance:g}'
            )
        j = int(np.argmin(np.where(ok, score_diff + box_diff, np.inf)))
        free[j] = False
        worst_score = max(worst_score, float(score_diff[j]))
        worst_box = max(worst_box, float(box_diff[j]))
    if (free & (w_scores > cut)).any():
        raise ExportError('a PyTorch detection has no ONNX Runtime counterpart')
    return worst_score, worst_box


def verify_detections(path, model, x, got, tolerance):
    """Compare ONNX Runtime's (boxes, scores, labels) of ``path`` for ``x`` with mmdet's
    ``predict``; returns the largest difference (scores, or boxes in pixels divided by the
    longer image side)."""
    want = reference_detections(model, x)
    worst = 0.0
    for i, ref in enumerate(want):
        mine = tuple(o[i] for o in got)
        if mine[0].shape != ref[0].shape:
            raise ExportError(
                f'{path}: ONNX Runtime gives {len(mine[0])} detections per image, PyTorch '
                f'{len(ref[0])}'
            )
        score, box = match_detections(mine, ref, tuple(x.shape[-2:]), tolerance)
        worst = max(worst, score, box / max(x.shape[-2:]))
    return worst
