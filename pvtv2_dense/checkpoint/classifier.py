"""Whole ImageNet classifiers (backbone + linear head) into our ``PVTv2ImageClassifier``.

Head keys by origin (the backbone's keys are in ``formats.py``):

- official whai362/PVT ``classification/pvt_v2.py``: ``head.{weight,bias}``;
- timm ``pvt_v2_*``: ``head.{weight,bias}``;
- HF ``PvtV2ForImageClassification``: ``classifier.{weight,bias}`` (encoder under ``pvt_v2.``).

Ours: ``backbone.layers.*`` and ``head.{weight,bias}``.
"""

from ..errors import CheckpointError
from .formats import to_pvtv2_dense

_HEAD_PREFIX = {'official': 'head.', 'timm': 'head.', 'hf_pvt_v2': 'classifier.'}


def classifier_to_pvtv2_dense(state_dict: dict) -> dict:
    """Our classifier's state dict for an official, HF or timm classifier checkpoint.

    Args:
        state_dict (dict): the checkpoint's tensors.

    Returns:
        dict: a new dict with our key names; ``state_dict`` itself when it already has them or
        is no PVTv2 classifier (the loader then reports what does not fit).
    """
    if any(k.startswith('backbone.') for k in state_dict):
        return state_dict
    try:
        backbone, fmt, _ = to_pvtv2_dense(state_dict)
    except CheckpointError:
        return state_dict
    head = _HEAD_PREFIX.get(fmt)
    if head is None:
        return state_dict
    out = {'backbone.' + k: v for k, v in backbone.items()}
    for part in ('weight', 'bias'):
        if head + part in state_dict:
            out['head.' + part] = state_dict[head + part]
    return out
