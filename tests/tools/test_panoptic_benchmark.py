"""The panoptic suite of benchmark_peers.py: Panoptic SegFormer and mmdet's Mask2Former on one
PVTv2 (same weights), both trained one step and run for panoptic maps."""

import torch

from pvtv2_dense.benchmark import panoptic as panoptic_models
from pvtv2_dense.benchmark.panoptic import build_panoptic, panoptic_step
from tests.helpers.common import ROOT

B0 = f'{ROOT}/configs/panoptic_segformer/panoptic-segformer_pvtv2-b0_8xb1-24e_coco-panoptic.py'


def test_peers_hold_the_same_backbone_and_both_train_and_predict(monkeypatch):
    built = []
    monkeypatch.setattr(
        panoptic_models, 'build_panoptic', lambda *a: built.append(build_panoptic(*a)) or built[-1]
    )
    for impl, parts in (
        ('ours', ('backbone.', 'encoder.', 'decoder.', 'bbox_head.')),
        ('mask2former', ('backbone.', 'panoptic_head.')),
    ):
        step = panoptic_step(impl, 'b0', B0, mode='train', size=64)
        before = {k: v.detach().clone() for k, v in built[-1].named_parameters()}
        step()  # forward, matched losses, backward and an AdamW update
        for part in parts:
            names = [k for k in before if k.startswith(part)]
            assert any(not torch.equal(before[k], built[-1].state_dict()[k]) for k in names), part
    ours, peer = built[0].backbone.state_dict(), built[1].backbone.state_dict()
    assert type(built[0].backbone) is type(built[1].backbone)
    assert ours.keys() == peer.keys()
    init = build_panoptic('ours', B0).backbone.state_dict()
    again = build_panoptic('mask2former', B0).backbone.state_dict()
    assert all(torch.equal(init[k], again[k]) for k in init)
    for impl in ('ours', 'mask2former'):
        with torch.no_grad():
            result = panoptic_step(impl, 'b0', B0, mode='infer', size=64)()
        assert result[0].pred_panoptic_seg.sem_seg.shape == (1, 64, 64)
