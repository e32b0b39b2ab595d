"""A tiny PVTv2 Deformable DETR overfits a few synthetic COCO-layout images with one or two large
objects each, measured with mmdet's CocoMetric (bbox mAP@50)."""

import time

import pytest
import torch
from mmdet.evaluation import CocoMetric
from mmdet.registry import MODELS
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope

from pvtv2_dense.datasets import CheckedCocoDataset, generate_coco
from pvtv2_dense.datasets.synthetic.coco import CLASSES
from tests.helpers.common import TINY_ARCH

EMBED = 64
STEPS = 100


def _tiny_detr():
    attn = dict(embed_dims=EMBED, num_heads=4, batch_first=True)
    ffn = dict(embed_dims=EMBED, feedforward_channels=128, ffn_drop=0.0)
    return dict(
        type='DeformableDETR',
        num_queries=10,
        num_feature_levels=4,
        with_box_refine=True,
        data_preprocessor=dict(
            type='DetDataPreprocessor',
            mean=[123.675, 116.28, 103.53],
            std=[58.395, 57.12, 57.375],
            bgr_to_rgb=True,
        ),
        backbone=dict(type='PVTv2', arch=dict(TINY_ARCH), out_indices=(1, 2, 3)),
        neck=dict(
            type='ChannelMapper',
            in_channels=TINY_ARCH['hidden_sizes'][1:],
            kernel_size=1,
            out_channels=EMBED,
            act_cfg=None,
            norm_cfg=dict(type='GN', num_groups=16),
            num_outs=4,
        ),
        encoder=dict(num_layers=1, layer_cfg=dict(self_attn_cfg=attn, ffn_cfg=ffn)),
        decoder=dict(
            num_layers=2,
            return_intermediate=True,
            layer_cfg=dict(self_attn_cfg=dict(attn, dropout=0.0), cross_attn_cfg=attn, ffn_cfg=ffn),
            post_norm_cfg=None,
        ),
        positional_encoding=dict(num_feats=EMBED // 2, normalize=True, offset=-0.5),
        bbox_head=dict(
            type='DeformableDETRHead',
            num_classes=len(CLASSES),
            embed_dims=EMBED,
            loss_cls=dict(
                type='FocalLoss', use_sigmoid=True, gamma=2.0, alpha=0.25, loss_weight=2.0
            ),
            loss_bbox=dict(type='L1Loss', loss_weight=5.0),
            loss_iou=dict(type='GIoULoss', loss_weight=2.0),
        ),
        train_cfg=dict(
            assigner=dict(
                type='HungarianAssigner',
                match_costs=[
                    dict(type='FocalLossCost', weight=2.0),
                    dict(type='BBoxL1Cost', weight=5.0, box_format='xywh'),
                    dict(type='IoUCost', iou_mode='giou', weight=2.0),
                ],
            )
        ),
        test_cfg=dict(max_per_img=10),
    )


@pytest.fixture
def one_thread():
    # A 2-core machine shared with other jobs slows down badly with two torch threads.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.slow
def test_overfits_a_few_images(tmp_path, one_thread):
    root = generate_coco(
        str(tmp_path), num_train=4, num_val=1, seed=5, max_objects=2, scale=(0.25, 0.4)
    )
    ann_file = f'{root}/annotations/instances_train2017.json'
    init_default_scope('mmdet')
    dataset = CheckedCocoDataset(
        data_root=root,
        ann_file=ann_file,
        data_prefix=dict(img='train2017/'),
        metainfo=dict(classes=CLASSES),
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='Resize', scale=(64, 64), keep_ratio=True),  # sets scale_factor
            dict(type='LoadAnnotations', with_bbox=True),
            dict(type='PackDetInputs'),
        ],
    )
    batch = pseudo_collate([dataset[i] for i in range(len(dataset))])
    torch.manual_seed(0)
    model = MODELS.build(_tiny_detr())
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
    metric = CocoMetric(ann_file=ann_file, metric='bbox')
    metric.dataset_meta = dataset.metainfo
    metric.process({}, [p.to_dict() for p in preds])
    results = metric.evaluate(len(preds))
    elapsed = time.time() - start
    print(
        f'loss {losses[0]:.2f} -> {losses[-1]:.2f}; mAP@50 {results["coco/bbox_mAP_50"]:.3f} '
        f'after {STEPS} steps, {elapsed:.0f} s'
    )
    assert sum(losses[-10:]) / 10 < 0.25 * sum(losses[:10]) / 10
    assert results['coco/bbox_mAP_50'] >= 0.5
