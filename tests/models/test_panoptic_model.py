"""Panoptic SegFormer's parts: masks from attention maps, query decoupling, mask-wise merging,
the head's losses and its panoptic predictions."""

import pytest
import torch
import torch.nn.functional as F
from mmdet.evaluation import INSTANCE_OFFSET
from mmdet.registry import MODELS
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope

from pvtv2_dense.models.panoptic import MaskAttention, MaskDecoder, mask_wise_merge
from pvtv2_dense.models.panoptic.head import PanopticSegFormerHead
from tests.helpers.panoptic import PAN_QUICKSTART, tiny_panoptic_model

SHAPES = torch.tensor([[4, 6], [2, 3], [1, 2]])


def _tokens(b=2, c=16, shapes=SHAPES, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(b, int(shapes.prod(1).sum()), c, generator=g)


def test_mask_is_the_fused_attention_logits_of_every_head_and_level():
    torch.manual_seed(0)
    attn = MaskAttention(16, num_heads=4, num_levels=3)
    query, key = torch.randn(2, 5, 16), _tokens()
    out, mask = attn(query, key, key, SHAPES)
    # Reference: per level, logits (B, heads, N, h, w) -> per-head linear + ReLU -> resize ->
    # concatenate the levels -> linear to one channel + ReLU.
    q = attn.q(query).view(2, 5, 4, 4)
    k = attn.k(key).view(2, -1, 4, 4)
    logits = torch.einsum('bnhd,blhd->bhnl', q, k) / 2.0
    fused, start = [], 0
    for fc, (h, w) in zip(attn.level_fcs, SHAPES.tolist()):
        lvl = logits[..., start : start + h * w].reshape(2, 4, 5, h, w)
        start += h * w
        lvl = F.relu(torch.einsum('bhnyx,gh->bgnyx', lvl, fc.weight) + fc.bias[:, None, None, None])
        lvl = F.interpolate(lvl.flatten(1, 2), size=(4, 6), mode='bilinear').view(2, 4, 5, 4, 6)
        fused.append(lvl)
    fused = torch.cat(fused, 1)  # (B, 3 * heads, N, 4, 6), level-major like the fc's inputs
    expected = F.relu(
        torch.einsum('bcnyx,c->bnyx', fused, attn.mask_fc.weight[0]) + attn.mask_fc.bias[0]
    )
    torch.testing.assert_close(mask, expected.flatten(2), rtol=1e-5, atol=1e-6)
    values = torch.softmax(logits, -1) @ attn.v(key).view(2, -1, 4, 4).transpose(1, 2)
    torch.testing.assert_close(out, attn.proj(values.transpose(1, 2).flatten(2)))
    assert (mask >= 0).all()


def test_thing_queries_are_decoded_independently_stuff_queries_together():
    torch.manual_seed(0)
    things = MaskDecoder(16, num_heads=2, num_layers=2)
    stuff = MaskDecoder(16, num_heads=2, num_layers=2, self_attn=True)
    memory = _tokens(b=1)
    query = torch.randn(1, 4, 16)
    changed = query.clone()
    changed[:, 0] += 1.0
    for decoder, independent in ((things, True), (stuff, False)):
        decoder.init_weights()
        masks, queries = decoder(query, memory, SHAPES)
        masks2, queries2 = decoder(changed, memory, SHAPES)
        assert len(masks) == 3 and len(queries) == 2 and masks[-1].shape == (1, 4, 24)
        assert torch.allclose(queries[-1][:, 1:], queries2[-1][:, 1:]) == independent
        if independent:  # padding queries of a batch change nothing for the real ones
            assert all(torch.equal(a[:, 1:], b[:, 1:]) for a, b in zip(masks, masks2))
        assert not torch.allclose(queries[-1][:, 0], queries2[-1][:, 0])
    # A positional query enters every layer.
    pos = torch.randn(1, 4, 16)
    assert not torch.allclose(stuff(query, memory, SHAPES, pos)[1][-1], queries[-1])


def _square(h, w, y0, y1, x0, x1, p=0.9):
    m = torch.zeros(h, w)
    m[y0:y1, x0:x1] = p
    return m


def test_mask_wise_merging_pastes_by_confidence_and_drops_covered_segments():
    h, w, num_classes = 10, 10, 5  # labels 0-2 things, 3-4 stuff
    masks = torch.stack(
        [
            _square(h, w, 0, 5, 0, 5),  # thing, label 1
            _square(h, w, 2, 7, 2, 7, p=0.7),  # thing, label 1: 36% of it under the first
            _square(h, w, 0, 5, 0, 4),  # thing, label 0: 100% under the first -> dropped
            _square(
                h, w, 0, 10, 0, 10, p=0.8
            ),  # stuff, label 3: 25 of 100 px taken -> dropped (> 0.2)
            _square(h, w, 8, 10, 0, 10),  # stuff, label 4: free rows 8-9
            _square(h, w, 9, 10, 9, 10),  # thing, label 2: low class score -> dropped
        ]
    )
    scores = torch.tensor([0.9, 0.8, 0.5, 0.9, 0.6, 0.2])
    labels = torch.tensor([1, 1, 0, 3, 4, 2])
    is_thing = labels < 3
    pan, kept = mask_wise_merge(masks, scores, labels, is_thing, num_classes)
    # Confidence = score * (mean probability inside the mask)^2, the +1 in the pixel count.
    conf = [0.9 * (0.9 * 25 / 26) ** 2, 0.8 * (0.7 * 25 / 26) ** 2, 0.6 * (0.9 * 20 / 21) ** 2]
    assert [k[0] for k in kept] == [1, 4, 1]
    assert [round(k[1], 5) for k in kept] == [round(c, 5) for c in (conf[0], conf[2], conf[1])]
    assert (pan[0:5, 0:5] == 1 + INSTANCE_OFFSET).all()
    second = pan[2:7, 2:7].clone()
    second[:3, :3] = -1  # the part the first instance took
    assert ((second == 1 + 2 * INSTANCE_OFFSET) | (second == -1)).all()
    assert (pan[8:10] == 4).all()
    assert (pan[7, :] == num_classes).all()  # nothing kept there: VOID
    # A looser stuff overlap threshold keeps the big stuff region on the free pixels.
    pan2, _ = mask_wise_merge(
        masks, scores, labels, is_thing, num_classes, overlap_threshold_stuff=0.5
    )
    assert (pan2[7, :] == 3).all()


def _tiny_model():
    cfg = tiny_panoptic_model(Config.fromfile(PAN_QUICKSTART))
    init_default_scope('mmdet')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model, cfg


@pytest.fixture(scope='module')
def pan_batch(tmp_path_factory):
    from pvtv2_dense.datasets import generate_coco_panoptic

    root = generate_coco_panoptic(str(tmp_path_factory.mktemp('pan')), num_train=4, num_val=2)
    cfg = Config.fromfile(PAN_QUICKSTART)
    init_default_scope('mmdet')
    from mmdet.registry import DATASETS

    dataset = cfg.train_dataloader.dataset
    dataset.data_root = root + '/'
    dataset.pipeline = [p for p in dataset.pipeline if p['type'] != 'RandomFlip']
    dataset = DATASETS.build(dataset)
    return pseudo_collate([dataset[i] for i in range(3)])


def test_losses_cover_every_layer_and_reach_every_weight(pan_batch):
    model, _ = _tiny_model()
    data = model.data_preprocessor(pan_batch, True)
    losses = model(**data, mode='loss')
    expected = {
        'loss_cls',
        'loss_bbox',
        'loss_iou',
        'd0.loss_cls',
        'd0.loss_bbox',
        'd0.loss_iou',
        'loss_mask_things',
        'd0.loss_mask_things',
        'd1.loss_mask_things',
        'loss_mask_stuff',
        'd0.loss_mask_stuff',
        'd1.loss_mask_stuff',
        'd0.loss_cls_stuff',
        'd1.loss_cls_stuff',
    }
    assert set(losses) == expected
    assert all(torch.isfinite(v) and v > 0 for v in losses.values())
    loss, _ = model.parse_losses(losses)
    loss.backward()
    no_grad = [n for n, p in model.named_parameters() if p.requires_grad and p.grad is None]
    assert no_grad == []


def test_a_batch_without_things_still_trains_every_weight(pan_batch):
    model, _ = _tiny_model()
    data = model.data_preprocessor(pan_batch, True)
    for sample in data['data_samples']:
        sample.gt_instances = sample.gt_instances[:0]
    losses = model(**data, mode='loss')
    assert float(losses['loss_mask_things']) == 0.0 and float(losses['loss_mask_stuff']) > 0
    model.parse_losses(losses)[0].backward()
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)


def test_predictions_are_panoptic_maps_of_the_original_image(pan_batch):
    model, cfg = _tiny_model()
    model.eval()
    for sample in pan_batch['data_samples']:
        sample.set_metainfo(dict(ori_shape=(96, 128)))  # as if resized from a larger image
    with torch.no_grad():
        results = model.test_step(pan_batch)
    num_classes = model.bbox_head.num_panoptic_classes
    for result in results:
        pan = result.pred_panoptic_seg.sem_seg
        assert pan.shape == (1, 96, 128) and pan.dtype == torch.long
        labels = pan % INSTANCE_OFFSET
        assert ((labels <= num_classes) & (labels >= 0)).all()
        # Stuff ids carry no instance number; thing ids carry one from 1.
        stuff = (labels >= 3) & (labels < num_classes)
        assert (pan[stuff] < INSTANCE_OFFSET).all()
        assert (pan[labels < 3] >= INSTANCE_OFFSET).all()


def test_masks_are_mapped_to_the_image_without_its_padding():
    # A 64x64 batch input whose image fills the top 48 rows, resized from 96x128.
    meta = dict(batch_input_shape=(64, 64), img_shape=(48, 64), ori_shape=(96, 128))
    masks = torch.zeros(2, 8, 8)
    masks[0, :3] = 1.0  # grid rows 0-2 = input rows 0-23 = original rows 0-47
    masks[1, 6:] = 1.0  # grid rows 6-7 = input rows 48-63: padding only
    out = PanopticSegFormerHead._to_image(masks, meta, rescale=True)
    assert out.shape == (2, 96, 128)
    assert (out[0, :40] > 0.5).all() and (out[0, 56:] < 0.5).all()
    assert (out[1] < 0.5).all()
    native = PanopticSegFormerHead._to_image(masks, meta, rescale=False)
    assert native.shape == (2, 48, 64) and (native[0, :20] > 0.5).all()
