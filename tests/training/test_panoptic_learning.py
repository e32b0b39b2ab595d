"""A tiny PVTv2 Panoptic SegFormer overfits a few synthetic COCO panoptic images (things on two
stuff regions), measured with mmdet's CocoPanopticMetric (PQ)."""

import time

import pytest
import torch
from mmdet.evaluation import CocoPanopticMetric
from mmdet.registry import DATASETS, MODELS
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope

from pvtv2_dense.datasets import generate_coco_panoptic
from tests.helpers.panoptic import PAN_QUICKSTART, tiny_panoptic_model

STEPS = 150


@pytest.fixture
def one_thread():
    # A 2-core machine shared with other jobs slows down badly with two torch threads.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.slow
def test_overfits_a_few_images(tmp_path, one_thread):
    root = generate_coco_panoptic(
        str(tmp_path), num_train=4, num_val=1, seed=3, max_objects=2, scale=(0.22, 0.32)
    )
    cfg = tiny_panoptic_model(Config.fromfile(PAN_QUICKSTART))
    init_default_scope('mmdet')
    dataset = cfg.train_dataloader.dataset
    dataset.data_root = root + '/'
    dataset.pipeline = [p for p in dataset.pipeline if p['type'] != 'RandomFlip']
    dataset = DATASETS.build(dataset)
    batch = pseudo_collate([dataset[i] for i in range(len(dataset))])
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    optim = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.MultiStepLR(optim, milestones=[int(STEPS * 0.8)])
    start, losses = time.time(), []
    model.train()
    for _ in range(STEPS):
        loss, _ = model.parse_losses(model(**model.data_preprocessor(batch, True), mode='loss'))
        optim.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optim.step()
        sched.step()
        losses.append(loss.item())
    model.eval()
    with torch.no_grad():
        preds = model.test_step(batch)
    metric = CocoPanopticMetric(
        ann_file=f'{root}/annotations/panoptic_train2017.json',
        seg_prefix=f'{root}/annotations/panoptic_train2017/',
    )
    metric.dataset_meta = dataset.metainfo
    metric.process({}, [p.to_dict() for p in preds])
    results = metric.evaluate(len(preds))
    elapsed = time.time() - start
    pq = {k.split('/')[1]: round(v, 1) for k, v in results.items() if '/PQ' in k}
    print(f'loss {losses[0]:.2f} -> {losses[-1]:.2f}; {pq} after {STEPS} steps, {elapsed:.0f} s')
    assert sum(losses[-10:]) / 10 < 0.3 * sum(losses[:10]) / 10
    assert results['coco_panoptic/PQ'] >= 50
