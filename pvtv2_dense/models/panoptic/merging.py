"""Mask-wise merging: Panoptic SegFormer's inference rule (Li et al., CVPR 2022, Algorithm 1).

Instead of a pixel-wise argmax over every mask, the segments are ranked by confidence (class
score times the squared mean probability inside the mask, i.e. mask quality) and pasted in that
order onto an empty canvas: a segment whose confidence is below the quality threshold, whose mask
is empty, or whose mask lies mostly on pixels already taken (overlap threshold) is dropped; the
others take their still-free pixels. Things and stuff have their own thresholds (the official
defaults: quality 0.25 and 0.25, overlap 0.4 and 0.2; masks are ``> 0.5``).

The output follows mmdet's panoptic convention (``mmdet.evaluation.INSTANCE_OFFSET``): a stuff
pixel holds its label, a thing pixel ``label + instance_id * INSTANCE_OFFSET`` (instance ids from
1), and an unassigned pixel ``num_classes`` (VOID).
"""

import torch
from mmdet.evaluation import INSTANCE_OFFSET


def mask_quality(masks, threshold=0.5):
    """Mean probability inside each binarised mask (M, H, W) -> (M,), the official ``+1``
    in the pixel count keeping empty masks at 0."""
    binary = masks > threshold
    return (masks * binary).flatten(1).sum(1) / (binary.flatten(1).sum(1) + 1)


def reachable(
    masks, scores, is_thing, quality_threshold_things=0.25, quality_threshold_stuff=0.25, **_
):
    """Which segments can pass :func:`mask_wise_merge`'s quality threshold, judged on their masks
    before resizing: (M,) bool.

    A segment's confidence is its score times its squared mask quality, and the quality (a mean
    of values inside the mask) is at most the mask's maximum, which bilinear resizing never
    raises. So ``score * max ** 2`` bounds the confidence at any output size, and a segment whose
    bound is below its threshold is dropped by the merging whatever the resizing: leaving it out
    before resizing changes no output. (The 1e-4 margin covers the resizing's rounding.)
    """
    bound = scores * masks.flatten(1).amax(1).clamp(min=0) ** 2
    threshold = torch.where(is_thing, quality_threshold_things, quality_threshold_stuff)
    return bound * (1 + 1e-4) >= threshold


def mask_wise_merge(
    masks,
    scores,
    labels,
    is_thing,
    num_classes,
    quality_threshold_things=0.25,
    quality_threshold_stuff=0.25,
    overlap_threshold_things=0.4,
    overlap_threshold_stuff=0.2,
    mask_threshold=0.5,
):
    """Merge candidate segments into one panoptic map.

    Args:
        masks (Tensor): (M, H, W) mask probabilities at the output resolution.
        scores (Tensor): (M,) class scores of the segments.
        labels (Tensor): (M,) labels in ``[0, num_classes)``.
        is_thing (Tensor): (M,) bool, True for thing segments.
        num_classes (int): things + stuff; the VOID value of the output.
        quality_threshold_things (float): least confidence of a kept thing.
        quality_threshold_stuff (float): least confidence of a kept stuff segment.
        overlap_threshold_things (float): a thing is dropped when more than this fraction of
            its mask is already taken.
        overlap_threshold_stuff (float): the same for stuff.
        mask_threshold (float): probability above which a pixel is in a mask.

    Returns:
        tuple: the panoptic map (H, W) int64, and the kept segments as a list of
        ``(label, confidence)`` in pasting order.
    """
    confidence = scores * mask_quality(masks, mask_threshold) ** 2
    order = torch.argsort(confidence, descending=True)
    panoptic = masks.new_full(masks.shape[1:], num_classes, dtype=torch.long)
    taken = torch.zeros(masks.shape[1:], dtype=torch.bool, device=masks.device)
    kept, instance_id = [], 1
    for i in order.tolist():
        thing = bool(is_thing[i])
        quality_min = quality_threshold_things if thing else quality_threshold_stuff
        overlap_max = overlap_threshold_things if thing else overlap_threshold_stuff
        if confidence[i] < quality_min:
            continue
        mask = masks[i] > mask_threshold
        area = int(mask.sum())
        if area == 0 or int((mask & taken).sum()) / area > overlap_max:
            continue
        mask &= ~taken
        label = int(labels[i])
        if thing:
            panoptic[mask] = label + instance_id * INSTANCE_OFFSET
            instance_id += 1
        else:
            panoptic[mask] = label
        taken |= mask
        kept.append((label, float(confidence[i])))
    return panoptic, kept
