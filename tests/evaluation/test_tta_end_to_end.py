"""tools/test.py --tta's model swap with the shipped TTA definitions of Deformable DETR
(DetTTAModel) and Panoptic SegFormer (PanopticTTAModel), on tiny random models and the
synthetic COCO sets (scales shrunk to the 64x64 images): every pass runs, the merge gives
predictions the COCO metrics score."""

import copy
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.runner import Runner

from pvtv2_dense.datasets import generate_coco, generate_coco_panoptic
from tests.helpers.common import ROOT
from tests.helpers.detection import tiny_det_cfg
from tests.helpers.panoptic import tiny_panoptic_cfg

CONFIGS = dict(
    det='configs/deformable_detr/deformable-detr_pvtv2-b0_16xb2-50e_coco.py',
    panoptic='configs/panoptic_segformer/panoptic-segformer_pvtv2-b0_8xb1-24e_coco-panoptic.py',
)


@pytest.mark.slow  # two tiny models, 2 images x 4 passes each (minutes on a loaded 2-core CPU)
@pytest.mark.parametrize('task', ['det', 'panoptic'])
def test_tta_model_runs_every_pass_and_is_scored(task, tmp_path):
    if task == 'det':
        root = generate_coco(str(tmp_path), num_train=1, num_val=2)
        cfg = tiny_det_cfg(root, tmp_path / 'work')
    else:
        root = generate_coco_panoptic(str(tmp_path), num_train=1, num_val=2)
        cfg = tiny_panoptic_cfg(root, tmp_path / 'work')
    shipped = Config.fromfile(osp.join(ROOT, CONFIGS[task]))
    pipeline = copy.deepcopy(shipped.tta_pipeline)
    resizes = pipeline[1].transforms[0]
    assert len(resizes) == 3 and len(pipeline[1].transforms[1]) == 2  # 3 scales x flip
    pipeline[1].transforms[0] = [dict(r, scale=s) for r, s in zip(resizes, [(64, 64), (96, 96)])]
    # What tools/test.py --tta does.
    cfg.test_dataloader.dataset.pipeline = pipeline
    cfg.test_dataloader.batch_size = 1
    cfg.tta_model = copy.deepcopy(shipped.tta_model)
    cfg.tta_model.module = cfg.model
    cfg.model = cfg.tta_model
    metrics = Runner.from_cfg(cfg).test()
    key = 'coco/bbox_mAP' if task == 'det' else 'coco_panoptic/PQ'
    assert key in metrics and metrics[key] >= 0
