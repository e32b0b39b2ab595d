"""Panoptic SegFormer's speed-ups against the plain definitions: the fused mask attention
(``mask_impl='fused'``) against :class:`MaskAttention`, and the stuff Dice taken on the classes
present against the same Dice weighted over every stuff class."""

import pytest
import torch
from mmengine.registry import init_default_scope

from pvtv2_dense.errors import ConfigError
from pvtv2_dense.models.panoptic import MaskAttention, MaskDecoder
from pvtv2_dense.models.panoptic.fused_mask_attention import FusedMaskAttention
from pvtv2_dense.models.panoptic.head import PanopticSegFormerHead

# Odd grids, one level already at the first level's size and two to resize.
SHAPES = torch.tensor([[5, 7], [5, 7], [3, 4], [2, 2]])
TOL = {torch.float32: dict(rtol=1e-4, atol=1e-5), torch.float64: dict(rtol=1e-9, atol=1e-10)}


def _pair(with_value, dtype, levels=3):
    torch.manual_seed(0)
    plain = MaskAttention(16, num_heads=4, num_levels=levels, with_value=with_value)
    for p in plain.parameters():  # weights of both signs, so that the ReLUs cut
        torch.nn.init.normal_(p, std=0.5)
    fused = FusedMaskAttention(16, num_heads=4, num_levels=levels, with_value=with_value)
    fused.load_state_dict(plain.state_dict())
    return plain.to(dtype), fused.to(dtype)


@pytest.mark.parametrize('with_value', [True, False])
@pytest.mark.parametrize('dtype', [torch.float32, torch.float64], ids=['f32', 'f64'])
def test_fused_mask_attention_matches_plain_values_and_gradients(with_value, dtype):
    plain, fused = _pair(with_value, dtype)
    g = torch.Generator().manual_seed(1)
    length = int(SHAPES[:3].prod(1).sum())
    query = torch.randn(2, 6, 16, generator=g, dtype=dtype)
    key = torch.randn(2, length, 16, generator=g, dtype=dtype)
    results = []
    for attn in (plain, fused):
        q, k = query.clone().requires_grad_(), key.clone().requires_grad_()
        out, mask = attn(q, k, k, SHAPES)
        loss = (mask * torch.linspace(-1, 1, mask.numel(), dtype=dtype).view_as(mask)).sum()
        if out is not None:
            loss = loss + out.square().sum()
        loss.backward()
        grads = [q.grad, k.grad] + [p.grad for p in attn.parameters()]
        results.append((out, mask, grads))
    (out, mask, grads), (ref_out, ref_mask, ref_grads) = results[1], results[0]
    assert mask.shape == (2, 6, 35) and (ref_mask > 0).any() and (ref_mask == 0).any()
    torch.testing.assert_close(mask, ref_mask, **TOL[dtype])
    if with_value:
        torch.testing.assert_close(out, ref_out, **TOL[dtype])
    for a, b in zip(grads, ref_grads):
        torch.testing.assert_close(a, b, **TOL[dtype])


def test_mask_decoder_builds_the_selected_mask_attention_and_refuses_others():
    fused = MaskDecoder(16, num_heads=2, num_layers=2, mask_impl='fused')
    plain = MaskDecoder(16, num_heads=2, num_layers=2)
    assert isinstance(fused.final_attn, FusedMaskAttention)
    assert all(isinstance(layer.cross_attn, FusedMaskAttention) for layer in fused.layers)
    assert type(plain.final_attn) is MaskAttention
    assert plain.state_dict().keys() == fused.state_dict().keys()
    with pytest.raises(ConfigError, match='mask_impl'):
        MaskDecoder(16, num_heads=2, mask_impl='fast')


def test_stuff_dice_on_present_classes_equals_the_weighted_dice_over_all_classes():
    init_default_scope('mmdet')
    torch.manual_seed(0)
    head = PanopticSegFormerHead(
        num_things_classes=3,
        num_stuff_classes=5,
        embed_dims=16,
        thing_mask_decoder=dict(num_heads=2, num_layers=1),
        stuff_mask_decoder=dict(num_heads=2, num_layers=2, self_attn=True),
        loss_cls=dict(type='FocalLoss', use_sigmoid=True, loss_weight=2.0),
    )
    head.init_weights()
    shapes = torch.tensor([[6, 8], [3, 4], [2, 2]])
    memory = torch.randn(2, int(shapes.prod(1).sum()), 16)
    g = torch.Generator().manual_seed(2)
    # Image 0: stuff classes 1 and 3 present; image 1: class 4 only.
    stuff = [
        (torch.tensor([1, 3]), (torch.rand(2, 48, 64, generator=g) > 0.5).float()),
        (torch.tensor([4]), (torch.rand(1, 48, 64, generator=g) > 0.5).float()),
    ]
    losses = head._stuff_losses(memory, shapes, stuff, num_stuff=3.0)
    # The plain rule: every stuff mask against a zero target unless present, weight 1 if present.
    masks, _ = head._stuff_forward(memory, shapes)
    target = torch.zeros(2, 5, 12, 16)
    weight = torch.zeros(2, 5)
    for i, (index, gt) in enumerate(stuff):
        target[i, index] = torch.nn.functional.interpolate(
            gt[None], size=(12, 16), mode='bilinear'
        )[0]
        weight[i, index] = 1
    for j, mask in enumerate(masks):
        name = 'loss_mask_stuff' if j == len(masks) - 1 else f'd{j}.loss_mask_stuff'
        pred = head._upsample(mask.reshape(10, 6, 8))
        expected = head.loss_mask(pred, target.flatten(0, 1), weight.flatten(), avg_factor=3.0)
        torch.testing.assert_close(losses[name], expected)
    # No stuff in the batch: zero losses.
    empty = [(torch.zeros(0, dtype=torch.long), torch.zeros(0, 48, 64))] * 2
    assert float(head._stuff_losses(memory, shapes, empty, 1.0)['loss_mask_stuff']) == 0


@pytest.mark.parametrize('seed', range(4))
def test_merging_only_reachable_segments_gives_the_same_map(seed):
    import torch.nn.functional as F

    from pvtv2_dense.models.panoptic.merging import mask_wise_merge, reachable

    g = torch.Generator().manual_seed(seed)
    low = torch.rand(40, 9, 11, generator=g) ** 3 * 1.6  # some masks mostly below 0.5
    scores = torch.rand(40, generator=g) ** 2
    labels = torch.randint(0, 6, (40,), generator=g)
    is_thing = labels < 3
    cfg = dict(quality_threshold_things=0.2, quality_threshold_stuff=0.3)
    full = F.interpolate(low[None], size=(36, 44), mode='bilinear', align_corners=False)[0]
    ref, ref_kept = mask_wise_merge(full, scores, labels, is_thing, 6, **cfg)
    keep = reachable(low, scores, is_thing, **cfg)
    assert 0 < int(keep.sum()) < 40  # the test prunes some, not all
    out, kept = mask_wise_merge(full[keep], scores[keep], labels[keep], is_thing[keep], 6, **cfg)
    assert torch.equal(out, ref) and kept == ref_kept


@pytest.mark.parametrize('self_attn', [False, True])
def test_final_only_gives_the_same_final_mask_and_queries(self_attn):
    torch.manual_seed(0)
    decoder = MaskDecoder(16, num_heads=2, num_layers=3, self_attn=self_attn, mask_impl='fused')
    decoder.init_weights()
    shapes = SHAPES[:3]
    memory = torch.randn(2, int(shapes.prod(1).sum()), 16)
    query, pos = torch.randn(2, 4, 16), torch.randn(2, 4, 16)
    masks, queries = decoder(query, memory, shapes, pos)
    final, final_queries = decoder(query, memory, shapes, pos, final_only=True)
    assert len(masks) == 4 and len(final) == 1
    torch.testing.assert_close(final[0], masks[-1], rtol=0, atol=0)
    assert all(torch.equal(a, b) for a, b in zip(queries, final_queries))
