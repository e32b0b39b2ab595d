"""A tiny PVTv2 + all-MLP model overfits a handful of synthetic images (mIoU >= 0.9)."""

import numpy as np
import pytest
import torch
from mmengine.config import ConfigDict
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from pvtv2_dense.datasets.synthetic.ade20k import make_sample
from tests.helpers.common import TINY_ARCH

CLASSES = [1, 4, 13, 20, 33]  # the ADE20K ids the synthetic generator draws


def _miou(pred, gt, num_classes):
    ious = []
    for c in range(num_classes):
        p, g = pred == c, gt == c
        if g.any():
            ious.append((p & g).sum() / (p | g).sum())
    return float(np.mean(ious))


@pytest.mark.slow
def test_overfits_synthetic_images():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    images, labels = [], []
    for _ in range(4):
        img, label = make_sample(rng, (64, 64))
        lut = np.full(256, 255, np.int64)
        lut[CLASSES] = np.arange(len(CLASSES))
        images.append(torch.from_numpy(img[..., ::-1].copy()).permute(2, 0, 1))
        labels.append(torch.from_numpy(lut[label]))
    init_default_scope('mmseg')
    model = MODELS.build(
        dict(
            type='EncoderDecoder',
            data_preprocessor=dict(
                type='SegDataPreProcessor',
                mean=[123.675, 116.28, 103.53],
                std=[58.395, 57.12, 57.375],
                bgr_to_rgb=True,
                size=(64, 64),
            ),
            backbone=dict(type='PVTv2', arch=TINY_ARCH),
            decode_head=dict(
                type='AllMLPHead',
                in_channels=TINY_ARCH['hidden_sizes'],
                channels=64,
                num_classes=len(CLASSES),
                dropout_ratio=0.0,
            ),
            test_cfg=ConfigDict(mode='whole'),
        )
    )
    model.init_weights()
    meta = dict(img_shape=(64, 64), ori_shape=(64, 64), pad_shape=(64, 64))
    samples = []
    for label in labels:
        s = SegDataSample(metainfo=meta)
        s.gt_sem_seg = PixelData(data=label[None])
        samples.append(s)
    batch = dict(inputs=images, data_samples=samples)
    optim = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.0)
    gts = np.stack([lbl.numpy() for lbl in labels])
    valid = gts != 255
    test_batch = dict(inputs=images, data_samples=[SegDataSample(metainfo=meta) for _ in images])
    miou = 0.0
    # Stop as soon as the target is reached (checked every 25 steps) to keep the suite fast.
    for step in range(1, 251):
        model.train()
        data = model.data_preprocessor(batch, training=True)
        loss = sum(v for k, v in model(**data, mode='loss').items() if 'loss' in k)
        optim.zero_grad()
        loss.backward()
        optim.step()
        if step % 25 == 0:
            model.eval()
            with torch.no_grad():
                results = model.test_step(test_batch)
            preds = np.stack([r.pred_sem_seg.data[0].numpy() for r in results])
            miou = _miou(preds[valid], gts[valid], len(CLASSES))
            if miou >= 0.9:
                break
    assert miou >= 0.9, f'mIoU {miou:.3f} after {step} steps'
