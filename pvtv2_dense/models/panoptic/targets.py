"""Ground truth of one image split into Panoptic SegFormer's two query families.

Things come from ``gt_instances`` (boxes, labels and masks, as mmdet's ``LoadPanopticAnnotations``
gives them: crowd segments left out), stuff from ``gt_sem_seg`` (one mask per stuff class present,
labels ``num_things .. num_things + num_stuff - 1``; 255 is VOID). Both at the padded batch size.
"""

import torch
import torch.nn.functional as F
from mmdet.structures.bbox import get_box_tensor


def thing_targets(data_sample, device):
    """``(labels (n,), boxes (n, 4) xyxy in pixels, masks (n, H, W) float)`` of the things."""
    gt = data_sample.gt_instances
    h, w = data_sample.batch_input_shape
    masks = gt.masks
    if hasattr(masks, 'to_tensor'):  # BitmapMasks
        masks = masks.to_tensor(torch.float32, device) if len(masks) else None
    if masks is None:
        masks = torch.zeros((0, h, w), device=device)
    return gt.labels.to(device), get_box_tensor(gt.bboxes).to(device), masks.float()


def stuff_targets(data_sample, num_things, num_stuff, device):
    """``(index (k,), masks (k, H, W) float)`` of the stuff classes present: ``index`` counts
    from 0 among the stuff classes (label ``num_things + index``)."""
    sem = data_sample.gt_sem_seg.sem_seg[0].to(device).long()
    labels = torch.unique(sem)
    labels = labels[(labels >= num_things) & (labels < num_things + num_stuff)]
    return labels - num_things, (sem[None] == labels[:, None, None]).float()


def resize_masks(masks, size):
    """Bilinear resize of (n, H, W) masks to ``size`` (the official targets' interpolation)."""
    if masks.shape[0] == 0:
        return masks.new_zeros((0, *size))
    return F.interpolate(masks[None], size=size, mode='bilinear', align_corners=False)[0]
