"""The recipe's augmentations, schedule and metric behave as the DeiT / PVTv2 code defines them."""

import math
import random

import numpy as np
import pytest
import torch
from mmengine.structures import BaseDataElement

from pvtv2_dense.datasets.transforms.cls_geometry import (
    ClsCenterCrop,
    ClsRandomResizedCrop,
    ClsResizeShortEdge,
)
from pvtv2_dense.datasets.transforms.rand_augment import OPS, ClsRandAugment
from pvtv2_dense.engine.deit_cosine_lr import DeiTCosineLR
from pvtv2_dense.errors import ConfigError, DataError
from pvtv2_dense.evaluation.cls_accuracy import ClsAccuracy
from pvtv2_dense.models.classifiers.mixup import BatchMixup, smoothed_one_hot
from pvtv2_dense.models.classifiers.random_erasing import RandomErasing


def _batch(b=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(b, 3, 16, 20, generator=g), torch.tensor([0, 3, 1, 2][:b])


def test_smoothed_one_hot_is_timms():
    t = smoothed_one_hot(torch.tensor([2, 0]), 5, 0.1)
    assert t[0].tolist() == pytest.approx([0.02, 0.02, 0.92, 0.02, 0.02])
    assert t.sum(1).tolist() == pytest.approx([1.0, 1.0])


def test_mixup_blends_images_and_targets_with_one_weight():
    np.random.seed(0)
    images, labels = _batch()
    mixed, targets = BatchMixup(4, mixup_alpha=0.8, cutmix_alpha=0.0, label_smoothing=0.0)(
        images.clone(), labels
    )
    lam = targets[0, labels[0]].item()  # labels 0 and 2 (its reversed partner) differ
    assert 0.0 < lam < 1.0
    torch.testing.assert_close(mixed, lam * images + (1 - lam) * images.flip(0))
    assert targets[0, labels[-1]].item() == pytest.approx(1 - lam)


def test_cutmix_pastes_one_box_and_weights_by_its_area():
    np.random.seed(3)
    images, labels = _batch()
    mixed, targets = BatchMixup(4, mixup_alpha=0.0, cutmix_alpha=1.0, label_smoothing=0.0)(
        images.clone(), labels
    )
    pasted = (mixed != images).any(dim=1)[0]
    assert torch.equal(mixed[:, :, pasted], images.flip(0)[:, :, pasted])
    rows, cols = pasted.any(1).nonzero(), pasted.any(0).nonzero()
    box = (rows.max() - rows.min() + 1) * (cols.max() - cols.min() + 1)
    assert pasted.sum() == box  # one rectangle
    assert targets[0, labels[-1]].item() == pytest.approx(box.item() / (16 * 20))


def test_mixup_needs_an_even_batch():
    with pytest.raises(ConfigError, match='batch size 3 must be even'):
        BatchMixup(4)(*_batch(3))


def test_random_erasing_fills_one_box_with_noise():
    random.seed(1)
    image = torch.zeros(3, 40, 50)
    RandomErasing(prob=1.0)(image[None])
    erased = (image != 0).all(dim=0)
    rows, cols = erased.any(1).nonzero(), erased.any(0).nonzero()
    area = (rows.max() - rows.min() + 1) * (cols.max() - cols.min() + 1)
    assert erased.sum() == area and 0.02 * 2000 * 0.8 <= area <= 2000 / 3 * 1.2
    kept = torch.zeros(2, 3, 40, 50)
    assert not RandomErasing(prob=0.0)(kept).any()


def test_deit_cosine_counts_epochs_from_the_start():
    param = torch.nn.Parameter(torch.zeros(1))
    optim = torch.optim.SGD([param], lr=1e-3)
    sched = DeiTCosineLR(optim, warmup_epochs=5, warmup_lr=1e-6, eta_min=1e-5, end=300)
    lrs = []
    for _ in range(300):
        lrs.append(optim.param_groups[0]['lr'])
        sched.step()
    assert lrs[0] == pytest.approx(1e-6) and lrs[1] == pytest.approx(1e-6 + (1e-3 - 1e-6) / 5)
    # timm's cosine at epoch 5 is already past its peak (t counts from 0, not from the warmup).
    assert lrs[5] == pytest.approx(1e-5 + 0.5 * (1e-3 - 1e-5) * (1 + math.cos(math.pi / 60)))
    assert lrs[5] < 1e-3 and lrs[-1] == pytest.approx(1e-5, rel=1e-2)
    with pytest.raises(ConfigError, match='warmup_epochs=5'):
        DeiTCosineLR(optim, warmup_epochs=5, end=5)


def test_accuracy_is_top_k_in_percent():
    metric = ClsAccuracy(topk=(1, 2))
    scores = torch.tensor([[0.7, 0.2, 0.1], [0.2, 0.3, 0.5], [0.1, 0.6, 0.3], [0.5, 0.4, 0.1]])
    samples = [dict(pred_score=s, gt_label=torch.tensor([g])) for s, g in zip(scores, [0, 1, 1, 2])]
    metric.process(None, samples)
    assert metric.compute_metrics(metric.results) == pytest.approx(dict(top1=50.0, top2=75.0))


def test_test_crop_is_resize_256_then_center_224():
    img = np.arange(300 * 400 * 3, dtype=np.uint8).reshape(300, 400, 3)
    out = ClsCenterCrop(224)(ClsResizeShortEdge(256)(dict(img=img)))
    assert ClsResizeShortEdge(256)(dict(img=img))['img'].shape == (256, 341, 3)
    assert out['img'].shape == (224, 224, 3)
    with pytest.raises(DataError, match='smaller than the 224 crop'):
        ClsCenterCrop(224)(dict(img=img[:100]))


def test_random_resized_crop_stays_inside_the_image():
    random.seed(0)
    crop = ClsRandomResizedCrop(32)
    for _ in range(50):
        top, left, h, w = crop.box(60, 90)
        assert 0 <= top <= 60 - h and 0 <= left <= 90 - w
        assert 0.08 * 5400 * 0.9 <= h * w <= 5400 and 3 / 4 * 0.9 <= w / h <= 4 / 3 * 1.1
    assert crop(dict(img=np.zeros((60, 90, 3), np.uint8)))['img'].shape == (32, 32, 3)


def test_rand_augment_is_the_increasing_set():
    assert len(OPS) == 15 and all(name in OPS for name in ('SolarizeAdd', 'TranslateYRel'))
    img = np.random.default_rng(0).integers(0, 256, (24, 24, 3), dtype=np.uint8)
    for name, op in OPS.items():
        out = op(img.copy(), 9.0)
        assert out.shape == img.shape and out.dtype == np.uint8, name
    random.seed(0)
    np.testing.assert_array_equal(ClsRandAugment(prob=0.0)(dict(img=img.copy()))['img'], img)
    with pytest.raises(ConfigError, match="unknown ops \\['Cutout'\\]"):
        ClsRandAugment(ops=['Cutout'])


def test_accuracy_reads_packed_samples():
    sample = BaseDataElement(gt_label=torch.tensor([1]))
    sample.set_field(torch.tensor([0.1, 0.9]), 'pred_score')
    metric = ClsAccuracy(topk=(1,))
    metric.process(None, [sample.to_dict()])
    assert metric.compute_metrics(metric.results) == dict(top1=100.0)


def test_no_weight_decay_on_biases_and_norms_as_deit():
    """timm's rule in DeiT: no decay on 1-D parameters (biases, norms), 0.05 on the rest."""
    from mmengine.config import Config
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS

    from tests.helpers.common import ROOT, TINY_ARCH

    cfg = Config.fromfile(f'{ROOT}/configs/pvtv2_cls/pvtv2-b0_8xb128-300e_in1k.py')
    cfg.model.backbone.arch = TINY_ARCH
    init_default_scope('mmseg')
    model = MODELS.build(cfg.model)
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    decay = {id(p): g['weight_decay'] for g in wrapper.optimizer.param_groups for p in g['params']}
    for name, p in model.named_parameters():
        assert decay[id(p)] == (0.0 if p.ndim == 1 else 0.05), name
    assert wrapper.optimizer.defaults['lr'] == pytest.approx(5e-4 * 1024 / 512)
