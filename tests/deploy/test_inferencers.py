"""mmseg's and mmdet's stock inferencers (what mm users call from Python) on our configs answer
what ``pvtv2_dense.apis.predict`` answers on the same photo."""

import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import MODELS, init_default_scope

from pvtv2_dense.apis import build_model, build_test_pipeline, predict
from tests.helpers.common import ROOT

TINY = dict(hidden_sizes=[8, 16, 32, 32], depths=[1, 1, 1, 1], num_attention_heads=[1, 2, 2, 4])
QUICKSTART = {
    'seg': ('segformer_pvtv2-b0_1xb8-600iter_synthetic-ade-64x64.py', 'mmseg'),
    'depth': ('glpn_pvtv2-b0_1xb8-1000iter_synthetic-nyu-64x64.py', 'mmseg'),
    'det': ('deformable-detr-refine_pvtv2-b0_1xb8-600iter_synthetic-coco-64x64.py', 'mmdet'),
    'pan': ('panoptic-segformer_pvtv2-b0_1xb8-800iter_synthetic-coco-panoptic-64x64.py', 'mmdet'),
}


def _config_and_weights(task, tmp_path):
    """A tiny quickstart config file and a checkpoint of random weights saved from it."""
    name, scope = QUICKSTART[task]
    cfg = Config.fromfile(osp.join(ROOT, 'configs/quickstart', name))
    init_default_scope(scope)
    cfg.model.backbone.arch = TINY
    cfg.model.backbone.pop('init_cfg', None)
    if 'decode_head' in cfg.model:
        cfg.model.decode_head.in_channels = TINY['hidden_sizes']
        cfg.model.decode_head.channels = 16
    else:
        cfg.model.neck.in_channels = TINY['hidden_sizes'][1:]
    config, weights = str(tmp_path / 'model.py'), str(tmp_path / 'model.pth')
    cfg.dump(config)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    if scope == 'mmdet':
        model.init_weights()  # some parameters hold uninitialised memory until then
    # As mmengine's Runner saves it: the class names the inferencers label with.
    meta = dict(dataset_meta=dict(cfg.test_dataloader.dataset.get('metainfo') or {}))
    torch.save({'state_dict': model.state_dict(), 'meta': meta}, weights)
    return config, weights


def _photo():
    from skimage import data

    return np.ascontiguousarray(data.coffee()[::4, ::4, ::-1])  # BGR, as mm inferencers take


def _ours(config, weights, image):
    cfg = Config.fromfile(config)
    return predict(build_model(cfg, weights, config_path=config), build_test_pipeline(cfg), image)


@pytest.mark.parametrize('task', ['seg', 'depth'])
def test_stock_mmseg_inferencer_answers_ours(task, tmp_path):
    # mmseg's own, unchanged: our annotation checks let an image without annotation through.
    from mmseg.apis import MMSegInferencer

    config, weights = _config_and_weights(task, tmp_path)
    image = _photo()
    inferencer = MMSegInferencer(model=config, weights=weights, device='cpu')
    answer = inferencer(image)['predictions']
    ours = _ours(config, weights, image)
    assert answer.shape == image.shape[:2]
    if task == 'seg':
        want = ours.pred_sem_seg.data[0].numpy()
        assert len(np.unique(want)) > 1 and np.array_equal(answer, want)
    else:
        np.testing.assert_allclose(answer, ours.pred_depth_map.data[0].numpy(), rtol=1e-5)


@pytest.mark.slow
def test_mmdet_inferencer_answers_ours_for_detection(tmp_path):
    from mmdet.apis import DetInferencer

    config, weights = _config_and_weights('det', tmp_path)
    image = _photo()
    want = _ours(config, weights, image).pred_instances
    inferencer = DetInferencer(model=config, weights=weights, device='cpu')
    assert inferencer.model.dataset_meta['classes'] == ('disc', 'rectangle', 'triangle')
    got = inferencer(image, return_datasamples=True)['predictions'][0].pred_instances
    assert len(got) == len(want) > 0
    torch.testing.assert_close(got.bboxes, want.bboxes)
    torch.testing.assert_close(got.scores, want.scores)


@pytest.mark.slow
def test_mmdet_inferencer_answers_ours_for_panoptic(tmp_path):
    # Our panoptic loader, like mmdet's, skips a sample without annotation (inference).
    from mmdet.apis import DetInferencer

    config, weights = _config_and_weights('pan', tmp_path)
    image = _photo()
    inferencer = DetInferencer(model=config, weights=weights, device='cpu')
    got = inferencer(image, return_datasamples=True)['predictions'][0].pred_panoptic_seg.sem_seg
    want = _ours(config, weights, image).pred_panoptic_seg.sem_seg
    assert got.shape[-2:] == image.shape[:2] and torch.equal(got, want)
