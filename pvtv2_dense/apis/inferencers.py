"""mmseg's and mmdet's inferencers on our configs, whose test pipelines also load and check
annotations with our own steps (``CheckSegAnnotation``, ``LoadCheckedDepthAnnotation``,
``CheckedLoadPanopticAnnotations``).

mmseg's ``MMSegInferencer`` takes out only its own ``LoadAnnotations`` and
``LoadDepthAnnotation``, so on our segmentation and depth configs it stops at the annotation
check; mmdet's ``DetInferencer`` keeps every step, which is harmless for its ``LoadAnnotations``
(detection configs work with it as they are) but not for our panoptic loader. The two classes
here take out every annotation step of the test pipeline first and are otherwise theirs.
"""

import copy
import re

from mmdet.apis import DetInferencer as _MMDetInferencer
from mmseg.apis import MMSegInferencer

# mmseg/mmdet loaders and checks and ours, scoped or not.
_ANNOTATION_STEP = re.compile(r'(^|\.)(Load|Check|CheckedLoad)\w*Annotation')


def _without_annotation_steps(cfg):
    cfg = copy.deepcopy(cfg)
    dataset = cfg.test_dataloader.dataset
    dataset.pipeline = [s for s in dataset.pipeline if not _ANNOTATION_STEP.search(str(s['type']))]
    return cfg


class SegInferencer(MMSegInferencer):
    """``mmseg.apis.MMSegInferencer`` for our segmentation and depth configs.

    Args: those of ``MMSegInferencer``, e.g. ``SegInferencer(model=CONFIG, weights=CKPT,
    device='cpu')``; calling it with images returns ``predictions`` (``sem_seg`` or
    ``depth_map`` arrays) or, with ``return_datasamples=True``, the data samples.
    """

    def _init_pipeline(self, cfg):
        return super()._init_pipeline(_without_annotation_steps(cfg))


class DetInferencer(_MMDetInferencer):
    """``mmdet.apis.DetInferencer`` for our detection and panoptic configs (mmdet's own works
    for detection; this one also for the panoptic configs' annotation loader).
    """

    def _init_pipeline(self, cfg):
        return super()._init_pipeline(_without_annotation_steps(cfg))
