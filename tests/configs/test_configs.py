"""Every config in configs/ builds its model and runs a forward pass (no weights downloaded)."""

import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope, init_default_scope

from tests.helpers.common import ROOT

CONFIGS = sorted(
    p
    for p in glob.glob(osp.join(ROOT, 'configs', '**', '*.py'), recursive=True)
    if '_base_' not in p.split(osp.sep)
)


def _dummy_batch(scope, size=None):
    # Two-stage Deformable DETR picks its top 300 encoder tokens: 64x64 has only 85.
    size = size or ((128, 128) if scope == 'mmdet' else (64, 64))
    h, w = size
    image = torch.randint(0, 256, (3, h, w), dtype=torch.uint8)
    meta = dict(img_shape=(h, w), ori_shape=(h, w), scale_factor=(1.0, 1.0))
    if scope == 'mmdet':
        from mmdet.structures import DetDataSample

        sample = DetDataSample(metainfo=meta)
    else:
        from mmseg.structures import SegDataSample

        sample = SegDataSample(metainfo=meta)
    return dict(inputs=[image], data_samples=[sample])


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: osp.relpath(p, osp.join(ROOT, 'configs')))
def test_config_builds_and_runs(path):
    cfg = Config.fromfile(path)
    scope = cfg.get('default_scope', 'mmseg')
    init_default_scope(scope)
    with DefaultScope.overwrite_default_scope(scope):
        from mmengine.registry import MODELS

        model = MODELS.build(cfg.model).eval()
    # Sparse R-CNN's learned proposals are whole-image boxes only once init_weights has run (the
    # Runner runs it); the raw embedding gives negative sizes, which RoIAlign refuses.
    if type(getattr(model, 'rpn_head', None)).__name__ == 'EmbeddingRPNHead':
        model.rpn_head.init_weights()
    with torch.no_grad():
        results = model.test_step(_dummy_batch(scope))
    assert len(results) == 1


def test_there_are_configs():
    assert CONFIGS
