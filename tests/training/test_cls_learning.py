"""A tiny PVTv2 classifier learns the synthetic shapes: held-out top-1 far above chance."""

import numpy as np
import pytest
import torch
from mmengine.optim import OptimWrapper
from mmengine.registry import init_default_scope
from mmengine.structures import BaseDataElement
from mmseg.registry import MODELS

from pvtv2_dense.datasets.synthetic.imagenet import SHAPES, render_image
from tests.helpers.common import TINY_ARCH


def _batches(rng, n, size=32):
    labels = np.arange(n) % len(SHAPES)
    images = [torch.from_numpy(render_image(rng, int(c), size)).permute(2, 0, 1) for c in labels]
    samples = [BaseDataElement(gt_label=torch.tensor([int(c)])) for c in labels]
    return images, samples, torch.from_numpy(labels)


@pytest.mark.slow
def test_learns_held_out_shapes():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    train_images, train_samples, _ = _batches(rng, 200)
    test_images, _, test_labels = _batches(rng, 50)
    init_default_scope('mmseg')
    model = MODELS.build(
        dict(
            type='PVTv2ImageClassifier',
            backbone=dict(type='PVTv2', arch=TINY_ARCH),
            num_classes=len(SHAPES),
            data_preprocessor=dict(type='ClsDataPreprocessor'),
        )
    )
    model.init_weights()
    optim = OptimWrapper(torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.0))
    accuracy = 0.0
    # Chance is 10%; stop as soon as 70% is reached (checked every 5 epochs) to keep it short.
    for epoch in range(1, 31):
        model.train()
        order = torch.randperm(len(train_images)).tolist()
        for i in range(0, len(order), 50):
            idx = order[i : i + 50]
            batch = dict(
                inputs=[train_images[j] for j in idx], data_samples=[train_samples[j] for j in idx]
            )
            model.train_step(batch, optim)
        if epoch % 5 == 0:
            model.eval()
            with torch.no_grad():
                results = model.test_step(dict(inputs=test_images))
            pred = torch.cat([r.pred_label for r in results])
            accuracy = (pred == test_labels).float().mean().item()
            if accuracy >= 0.7:
                break
    assert accuracy >= 0.7, f'held-out top-1 {accuracy:.2f} after {epoch} epochs'
