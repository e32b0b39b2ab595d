"""Panoptic SegFormer's head: mmdet's Deformable DETR head (the location decoder's boxes and
classes) plus the query-decoupled mask decoders and the mask-wise merging.

Li et al., "Panoptic SegFormer" (CVPR 2022); behaviour as in github.com/zhiqi-li/Panoptic-SegFormer:

- Things: the location decoder's thing queries (with box refinement) are classified and boxed by
  mmdet's ``DeformableDETRHead`` branches; its last layer's hidden states are the thing queries of
  the thing mask decoder (no positional query). Training feeds only the queries the last layer's
  Hungarian matching assigns to a ground truth (the official "query filter": its loop of up to
  three matching rounds stops after the first, so it keeps exactly these); inference feeds the
  ``max_per_img`` best (query, class) pairs.
- Stuff: one learnt query per stuff class (content and positional halves) through the stuff mask
  decoder (with self-attention); each layer's queries give a presence score (sigmoid).
- Losses: focal, L1 and GIoU on every location-decoder layer (Hungarian: focal 2, L1 5, GIoU 2);
  Dice on every thing mask (each mask-decoder layer and the final one), the masks of the matched
  queries matched again with a Dice cost added (focal 4 -- the official assigner doubles its
  class weight --, L1 5, GIoU 2, Dice 2); Dice on every stuff mask of a class present and focal
  (weight 4: the official loss doubles it) on every layer's presence scores. Masks are upsampled
  x2 to stride 4, targets resized to that size. Thing losses are scaled by the things' share of
  the segments in the batch, stuff losses by the stuff share (the official dynamic weights).
"""

import torch
import torch.nn.functional as F
from mmdet.models.dense_heads import DeformableDETRHead
from mmdet.registry import MODELS, TASK_UTILS
from mmdet.structures.bbox import bbox_cxcywh_to_xyxy
from mmdet.utils import reduce_mean
from mmengine.model import bias_init_with_prob
from mmengine.structures import InstanceData, PixelData
from torch import nn

from ...errors import ConfigError
from ...registry import register_model
from .mask_decoder import MaskDecoder
from .merging import mask_wise_merge, reachable
from .targets import resize_masks, stuff_targets, thing_targets

MERGE_KEYS = (
    'quality_threshold_things',
    'quality_threshold_stuff',
    'overlap_threshold_things',
    'overlap_threshold_stuff',
    'mask_threshold',
)


@register_model()
class PanopticSegFormerHead(DeformableDETRHead):
    """The Panoptic SegFormer head (built by ``PanopticSegFormer``, which sets the
    ``DeformableDETRHead`` layer options).

    Args:
        num_things_classes (int): thing classes (labels ``0 .. num_things - 1``; 80 on COCO).
        num_stuff_classes (int): stuff classes (the labels after the things; 53 on COCO).
        thing_mask_decoder (dict): :class:`MaskDecoder` options for things (4 layers).
        stuff_mask_decoder (dict): :class:`MaskDecoder` options for stuff (6 layers, with
            self-attention).
        loss_mask (dict): the mask loss (Dice without a sigmoid).
        loss_stuff_cls (dict): the loss of the stuff presence scores.
        train_cfg (dict): ``assigner`` (location decoder) and ``mask_assigner`` (thing masks).
        test_cfg (dict): ``max_per_img`` thing candidates and the merging thresholds
            (:func:`mask_wise_merge` keyword arguments).
    """

    def __init__(
        self,
        *args,
        num_things_classes=80,
        num_stuff_classes=53,
        thing_mask_decoder=None,
        stuff_mask_decoder=None,
        loss_mask=None,
        loss_stuff_cls=None,
        train_cfg=None,
        **kwargs,
    ):
        thing_mask_decoder = thing_mask_decoder or dict(num_layers=4)
        stuff_mask_decoder = stuff_mask_decoder or dict(num_layers=6, self_attn=True)
        loss_mask = loss_mask or dict(
            type='DiceLoss', use_sigmoid=False, activate=False, eps=1e-6, loss_weight=2.0
        )
        loss_stuff_cls = loss_stuff_cls or dict(
            type='FocalLoss', use_sigmoid=True, gamma=2.0, alpha=0.25, loss_weight=4.0
        )
        super().__init__(*args, num_classes=num_things_classes, train_cfg=train_cfg, **kwargs)
        if self.as_two_stage:
            raise ConfigError('PanopticSegFormerHead: as_two_stage=True; expected False')
        self.num_things_classes = num_things_classes
        self.num_stuff_classes = num_stuff_classes
        dims = self.embed_dims
        self.thing_mask_decoder = MaskDecoder(dims, **thing_mask_decoder)
        self.stuff_mask_decoder = MaskDecoder(dims, **stuff_mask_decoder)
        # Content (first half) and positional (second half) embedding of each stuff query.
        self.stuff_query = nn.Embedding(num_stuff_classes, dims * 2)
        self.stuff_cls_branches = nn.ModuleList(
            nn.Linear(dims, 1) for _ in self.stuff_mask_decoder.layers
        )
        self.loss_mask = MODELS.build(loss_mask)
        self.loss_stuff_cls = MODELS.build(loss_stuff_cls)
        if train_cfg:
            self.mask_assigner = TASK_UTILS.build(train_cfg['mask_assigner'])

    def init_weights(self):
        super().init_weights()
        self.thing_mask_decoder.init_weights()
        self.stuff_mask_decoder.init_weights()
        for branch in self.stuff_cls_branches:
            nn.init.constant_(branch.bias, bias_init_with_prob(0.01))

    @property
    def num_panoptic_classes(self):
        return self.num_things_classes + self.num_stuff_classes

    def _mask_memory(self, memory, spatial_shapes):
        """The encoder tokens the mask decoders read: those of their first levels."""
        levels = self.thing_mask_decoder.num_levels
        return memory[:, : int(spatial_shapes[:levels].prod(1).sum())]

    def _stuff_forward(self, memory, spatial_shapes, final_only=False):
        """Stuff masks per layer (B, S, H0 * W0) (the final one only with ``final_only``) and
        presence logits per layer (B, S)."""
        query, pos = self.stuff_query.weight.split(self.embed_dims, 1)
        b = memory.shape[0]
        masks, queries = self.stuff_mask_decoder(
            query.expand(b, -1, -1),
            memory,
            spatial_shapes,
            query_pos=pos.expand(b, -1, -1),
            final_only=final_only,
        )
        logits = [fc(q).squeeze(-1) for fc, q in zip(self.stuff_cls_branches, queries)]
        return masks, logits

    @staticmethod
    def _mean_count(count, device):
        """A count averaged over processes, at least 1 (the normaliser of the losses)."""
        return max(reduce_mean(torch.tensor(float(count), device=device)).item(), 1.0)

    def _matched_queries(self, cls_score, bbox_pred, gt, meta):
        """Indices of the queries the Hungarian assigner gives a ground truth, in query order."""
        img_h, img_w = meta['img_shape']
        factor = bbox_pred.new_tensor([img_w, img_h, img_w, img_h])
        pred = InstanceData(scores=cls_score, bboxes=bbox_cxcywh_to_xyxy(bbox_pred) * factor)
        result = self.assigner.assign(pred_instances=pred, gt_instances=gt, img_meta=meta)
        return torch.nonzero(result.gt_inds > 0).squeeze(-1)

    def loss(
        self,
        hidden_states,
        references,
        enc_outputs_class,
        enc_outputs_coord,
        memory,
        spatial_shapes,
        batch_data_samples,
    ):
        """Every loss of the head (see the module docstring), as a dict of named terms.

        Args:
            hidden_states (Tensor): location-decoder outputs (layers, B, Q, C).
            references (list[Tensor]): the decoder's initial and per-layer references.
            enc_outputs_class, enc_outputs_coord: unused (no two-stage).
            memory (Tensor): encoder tokens of every level (B, L, C).
            spatial_shapes (Tensor): (levels, 2) heights and widths.
            batch_data_samples (list[DetDataSample]): with ``gt_instances`` (things, masks
                padded to the batch) and ``gt_sem_seg``.
        """
        all_cls, all_coords = self(hidden_states, references)
        device = hidden_states.device
        metas = [s.metainfo for s in batch_data_samples]
        things = [thing_targets(s, device) for s in batch_data_samples]
        stuff = [
            stuff_targets(s, self.num_things_classes, self.num_stuff_classes, device)
            for s in batch_data_samples
        ]
        gts = [InstanceData(labels=lab, bboxes=box) for lab, box, _ in things]
        num_things = self._mean_count(sum(len(t[0]) for t in things), device)
        num_stuff = self._mean_count(sum(len(s[0]) for s in stuff), device)
        thing_share = num_things / (num_things + num_stuff)
        stuff_share = num_stuff / (num_things + num_stuff)

        losses = {}
        last = len(all_cls) - 1
        for i, (cls_scores, bbox_preds) in enumerate(zip(all_cls, all_coords)):
            terms = self.loss_by_feat_single(cls_scores, bbox_preds, gts, metas)
            prefix = '' if i == last else f'd{i}.'
            for name, value in zip(('loss_cls', 'loss_bbox', 'loss_iou'), terms):
                losses[prefix + name] = value * thing_share
        matched = [
            self._matched_queries(c, b, g, m)
            for c, b, g, m in zip(all_cls[-1], all_coords[-1], gts, metas)
        ]
        mem = self._mask_memory(memory, spatial_shapes)
        thing_losses = self._thing_mask_losses(
            hidden_states[-1],
            all_cls[-1],
            all_coords[-1],
            matched,
            things,
            mem,
            spatial_shapes,
            metas,
            num_things,
        )
        stuff_losses = self._stuff_losses(mem, spatial_shapes, stuff, num_stuff)
        losses.update({k: v * thing_share for k, v in thing_losses.items()})
        losses.update({k: v * stuff_share for k, v in stuff_losses.items()})
        return losses

    def _thing_mask_losses(
        self,
        hidden,
        cls_scores,
        bbox_preds,
        matched,
        things,
        memory,
        spatial_shapes,
        metas,
        num_things,
    ):
        b, c = hidden.shape[0], hidden.shape[-1]
        h0, w0 = (int(s) for s in spatial_shapes[0])
        width = max(len(m) for m in matched)
        queries = hidden.new_zeros(b, width, c)
        for i, q in enumerate(matched):
            queries[i, : len(q)] = hidden[i, q]
        masks, _ = self.thing_mask_decoder(queries, memory, spatial_shapes)
        preds, targets = [[] for _ in masks], []
        for i, q in enumerate(matched):
            n = len(q)
            if n == 0:
                continue
            labels, boxes, gt_masks = things[i]
            img_h, img_w = metas[i]['img_shape']
            factor = boxes.new_tensor([img_w, img_h, img_w, img_h])
            pred = InstanceData(
                scores=cls_scores[i, q],
                bboxes=bbox_cxcywh_to_xyxy(bbox_preds[i, q]) * factor,
                masks=masks[-1][i, :n].view(n, h0, w0),
            )
            gt = InstanceData(labels=labels, bboxes=boxes, masks=resize_masks(gt_masks, (h0, w0)))
            result = self.mask_assigner.assign(
                pred_instances=pred, gt_instances=gt, img_meta=metas[i]
            )
            targets.append(resize_masks(gt_masks, (2 * h0, 2 * w0))[result.gt_inds - 1])
            for layer, mask in enumerate(masks):
                preds[layer].append(mask[i, :n].view(n, h0, w0))
        names = [f'd{j}.loss_mask_things' for j in range(len(masks) - 1)] + ['loss_mask_things']
        if not targets:  # no things in the batch: zero losses that still reach every weight
            return {name: mask.sum() * 0 for name, mask in zip(names, masks)}
        target = torch.cat(targets)
        return {
            name: self.loss_mask(self._upsample(torch.cat(p)), target, avg_factor=num_things)
            for name, p in zip(names, preds)
        }

    def _stuff_losses(self, memory, spatial_shapes, stuff, num_stuff):
        h0, w0 = (int(s) for s in spatial_shapes[0])
        masks, logits = self._stuff_forward(memory, spatial_shapes)
        b, s = masks[0].shape[:2]
        present = torch.zeros(b, s, dtype=torch.bool, device=memory.device)
        for i, (index, _) in enumerate(stuff):
            present[i, index] = True
        # Dice only on the masks of the classes present (the others have no target): picked
        # before upsampling; image by image in class order, as ``present.flatten()`` lists them.
        rows = torch.nonzero(present.flatten()).squeeze(-1)
        target = torch.cat([resize_masks(m, (2 * h0, 2 * w0)) for _, m in stuff])
        losses = {}
        for j, mask in enumerate(masks):
            name = 'loss_mask_stuff' if j == len(masks) - 1 else f'd{j}.loss_mask_stuff'
            if len(rows) == 0:  # no stuff in the batch: a zero loss that still reaches weights
                losses[name] = mask.sum() * 0
                continue
            pred = self._upsample(mask.reshape(b * s, h0, w0)[rows])
            losses[name] = self.loss_mask(pred, target, avg_factor=num_stuff)
        labels = (~present).long().flatten()  # 0: present (the one class), 1: background
        for j, logit in enumerate(logits):
            losses[f'd{j}.loss_cls_stuff'] = self.loss_stuff_cls(
                logit.reshape(b * s, 1), labels, avg_factor=num_stuff
            )
        return losses

    @staticmethod
    def _upsample(masks):
        """(n, H0, W0) stride-8 masks to stride 4 (bilinear x2), where the losses compare."""
        return F.interpolate(masks[None], scale_factor=2.0, mode='bilinear', align_corners=False)[0]

    def forward_panoptic(self, hidden_states, references, memory, spatial_shapes):
        """The inference network before merging.

        Returns:
            dict: ``thing_scores``, ``thing_labels`` (B, K) of the K best (query, class) pairs,
            ``thing_masks`` (B, K, H0, W0), ``stuff_scores`` (B, S), ``stuff_masks``
            (B, S, H0, W0).
        """
        all_cls, _ = self(hidden_states, references)
        scores = all_cls[-1].sigmoid()
        b, num_queries, num_cls = scores.shape
        k = min(self.test_cfg.get('max_per_img', 100), num_queries * num_cls)
        thing_scores, index = scores.flatten(1).topk(k)
        query_index = index // num_cls
        queries = torch.gather(
            hidden_states[-1], 1, query_index[..., None].expand(-1, -1, hidden_states.shape[-1])
        )
        mem = self._mask_memory(memory, spatial_shapes)
        h0, w0 = (int(s) for s in spatial_shapes[0])
        # Inference reads the final masks only: the layers' masks are not computed.
        thing_masks = self.thing_mask_decoder(queries, mem, spatial_shapes, final_only=True)[0][-1]
        stuff_masks, stuff_logits = self._stuff_forward(mem, spatial_shapes, final_only=True)
        return dict(
            thing_scores=thing_scores,
            thing_labels=index % num_cls,
            thing_masks=thing_masks.view(b, k, h0, w0),
            stuff_scores=stuff_logits[-1].sigmoid(),
            stuff_masks=stuff_masks[-1].view(b, -1, h0, w0),
        )

    @staticmethod
    def _to_image(masks, meta, rescale):
        """(M, H0, W0) masks to the original image (rescale) or the network input, dropping
        the padding: the grid's cells are ``stride`` input pixels each."""
        h0, w0 = masks.shape[-2:]
        pad_h, pad_w = meta['batch_input_shape']
        stride = max(1, round(pad_h / h0))
        img_h, img_w = meta['img_shape']
        out_h, out_w = meta['ori_shape'] if rescale else (img_h, img_w)
        size = (
            max(out_h, round(h0 * stride * out_h / img_h)),
            max(out_w, round(w0 * stride * out_w / img_w)),
        )
        masks = F.interpolate(masks[None], size=size, mode='bilinear', align_corners=False)[0]
        return masks[:, :out_h, :out_w]

    def predict(
        self, hidden_states, references, memory, spatial_shapes, batch_data_samples, rescale=True
    ):
        """Panoptic maps by mask-wise merging, one ``PixelData(sem_seg=(1, H, W))`` per image
        in mmdet's convention (see :mod:`.merging`)."""
        out = self.forward_panoptic(hidden_states, references, memory, spatial_shapes)
        cfg = {k: self.test_cfg[k] for k in MERGE_KEYS if k in self.test_cfg}
        stuff_labels = torch.arange(self.num_stuff_classes, device=memory.device)
        stuff_labels += self.num_things_classes
        results = []
        for i, sample in enumerate(batch_data_samples):
            masks = torch.cat([out['thing_masks'][i], out['stuff_masks'][i]])
            scores = torch.cat([out['thing_scores'][i], out['stuff_scores'][i]])
            labels = torch.cat([out['thing_labels'][i], stuff_labels])
            is_thing = labels < self.num_things_classes
            # Only the segments that can pass the quality threshold are resized and merged (the
            # same map: see ``reachable``); at least one, so that the map has its size.
            keep = reachable(masks, scores, is_thing, **cfg)
            keep[scores.argmax()] |= not keep.any()
            masks = self._to_image(masks[keep], sample.metainfo, rescale)
            panoptic, _ = mask_wise_merge(
                masks,
                scores[keep],
                labels[keep],
                is_thing[keep],
                self.num_panoptic_classes,
                **cfg,
            )
            results.append(PixelData(sem_seg=panoptic[None]))
        return results
