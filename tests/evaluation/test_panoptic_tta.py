"""PanopticTTAModel: flipped passes are flipped back, the class most passes agree on wins each
pixel (the anchor, first, wins ties and keeps its segments), and the merged map feeds mmdet's
panoptic metric like a single pass does; the panoptic configs select it for --tta."""

import numpy as np
import torch
from mmdet.evaluation.functional import INSTANCE_OFFSET
from mmdet.structures import DetDataSample
from mmengine.config import Config
from mmengine.structures import PixelData

from pvtv2_dense.evaluation import PanopticTTAModel
from pvtv2_dense.evaluation.panoptic_tta import vote_merge
from tests.helpers.common import ROOT

VOID = 7


def _sample(pan, flip=False):
    pan = np.flip(pan, 1) if flip else pan
    meta = dict(flip=flip, flip_direction='horizontal' if flip else None, ori_shape=pan.shape)
    sample = DetDataSample(metainfo=meta)
    sample.pred_panoptic_seg = PixelData(sem_seg=torch.from_numpy(pan.copy())[None])
    return sample


def _thing(label, inst):
    return label + inst * INSTANCE_OFFSET


class _Passes(torch.nn.Module):
    """A model whose prediction for each pass is already in the pass's data sample."""

    def test_step(self, data):
        return data['data_samples']


def test_flipped_passes_agreeing_with_the_anchor_give_the_anchor():
    pan = np.full((6, 8), 4)  # stuff class 4
    pan[1:4, 0:3] = _thing(0, 1)
    pan[2:5, 5:8] = _thing(1, 2)
    model = PanopticTTAModel(module=_Passes())
    passes = [_sample(pan), _sample(pan, flip=True), _sample(pan, flip=True)]
    data = dict(inputs=[[torch.zeros(3, 6, 8)]] * 3, data_samples=[[p] for p in passes])
    merged = model.test_step(data)[0]
    assert np.array_equal(merged.pred_panoptic_seg.sem_seg[0].numpy(), pan)
    # Without flipping back, the two flipped passes would outvote the anchor.
    assert not np.array_equal(vote_merge([pan, np.flip(pan, 1), np.flip(pan, 1)]), pan)


def test_the_majority_class_wins_and_new_segments_get_ids_of_their_own():
    anchor = np.full((4, 4), 4)
    anchor[0, 0] = _thing(0, 1)
    other = np.full((4, 4), 4)
    other[0, 0] = _thing(0, 1)
    other[2:4, 2:4] = _thing(2, 1)  # two passes see a thing the anchor missed
    merged = vote_merge([anchor, other, other])
    assert merged[0, 0] == _thing(0, 1) and merged[0, 1] == 4
    new_ids = np.unique(merged[2:4, 2:4])
    assert len(new_ids) == 1 and new_ids[0] % INSTANCE_OFFSET == 2
    assert new_ids[0] // INSTANCE_OFFSET > 1  # moved above the anchor's instance ids
    # One dissenting pass against the anchor and a third: the anchor's class stays.
    assert np.array_equal(vote_merge([anchor, other, anchor]), anchor)
    # A tie (anchor vs one other pass) goes to the anchor.
    assert np.array_equal(vote_merge([anchor, other]), anchor)
    assert (vote_merge([np.full((2, 2), VOID), np.full((2, 2), 4), np.full((2, 2), 4)]) == 4).all()


def test_panoptic_configs_select_it_for_tta():
    cfg = Config.fromfile(
        f'{ROOT}/configs/panoptic_segformer/panoptic-segformer_pvtv2-b1_8xb1-24e_coco-panoptic.py'
    )
    assert cfg.tta_model.type == 'PanopticTTAModel'
    scales, flips = cfg.tta_pipeline[1].transforms[:2]
    assert scales[0].scale == (1333, 800) and flips[0].prob == 0.0  # the anchor comes first
