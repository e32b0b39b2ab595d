"""Cross-entropy of upsampled logits, band by band: the full-size resize's loss, accuracy and
gradient, and the all-MLP head's ``loss_by_feat`` on it against mmseg's."""

import pytest
import torch
import torch.nn.functional as F
from mmengine.structures import PixelData
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.structures import SegDataSample

from pvtv2_dense.errors import DataError
from pvtv2_dense.models import FoldedAllMLPHead
from pvtv2_dense.models.losses import upsampled_cross_entropy as module
from pvtv2_dense.models.losses.upsampled_cross_entropy import _bands, upsampled_cross_entropy

IGNORE = 255


def _data(n, c, h, w, k, seed=0):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(n, c, h, w, generator=g) * 3
    label = torch.randint(0, c, (n, h * k, w * k + 3), generator=g)
    label[:, :2, :7] = IGNORE
    label.view(-1)[::11] = IGNORE
    return logits, label


def _reference(logits, label):
    up = F.interpolate(logits, size=label.shape[-2:], mode='bilinear', align_corners=False)
    loss = F.cross_entropy(up, label, ignore_index=IGNORE, reduction='sum')
    correct = ((up.argmax(1) == label) & (label != IGNORE)).sum()
    return loss, correct


@pytest.mark.parametrize('k', [1, 2, 3, 4])
@pytest.mark.parametrize('band_elements', [1, 200, 2**21])
def test_matches_full_size_resize(monkeypatch, k, band_elements):
    # 1 element per band: bands of k rows, each reading one to three logit rows.
    monkeypatch.setattr(module, '_BAND_ELEMENTS', band_elements)
    logits, label = _data(2, 5, 7, 6, k)
    x = logits.clone().requires_grad_()
    loss, correct = upsampled_cross_entropy(x, label, IGNORE)
    (loss * 0.5).backward()
    y = logits.clone().requires_grad_()
    ref_loss, ref_correct = _reference(y, label)
    (ref_loss * 0.5).backward()
    torch.testing.assert_close(loss, ref_loss, rtol=1e-6, atol=1e-4)
    assert correct.item() == ref_correct.item() > 0
    torch.testing.assert_close(x.grad, y.grad, rtol=1e-5, atol=1e-6)
    assert correct.dtype == torch.long and not correct.requires_grad


@pytest.mark.parametrize('shape', [(1, 8, 128, 128), (1, 3, 32, 20)])
def test_band_resize_is_the_full_resize(shape):
    logits = torch.randn(shape).contiguous(memory_format=torch.channels_last)
    h, w = shape[2:]
    full = F.interpolate(logits, size=(4 * h, 4 * w), mode='bilinear', align_corners=False)
    for start, end, lo, hi in _bands(h, 4 * h, 12):
        crop = logits[:, :, lo:hi].contiguous(memory_format=torch.channels_last)
        part = F.interpolate(crop, size=(4 * (hi - lo), 4 * w), mode='bilinear')
        part, ref = part[:, :, start - 4 * lo : end - 4 * lo], full[:, :, start:end]
        if w == 128:  # the training size (512 / 4): bit for bit
            assert torch.equal(part, ref)
        else:  # other widths take other vector paths: equal to rounding
            torch.testing.assert_close(part, ref, rtol=1e-6, atol=1e-6)


def test_no_gradient_when_not_needed_and_low_precision_inputs():
    logits, label = _data(1, 4, 6, 6, 4, seed=1)
    loss, correct = upsampled_cross_entropy(logits, label, IGNORE)
    assert not loss.requires_grad
    ref_loss, ref_correct = _reference(logits, label)
    torch.testing.assert_close(loss, ref_loss)
    x = logits.bfloat16().requires_grad_()
    low, _ = upsampled_cross_entropy(x, label, IGNORE)
    low.backward()
    assert x.grad.dtype == torch.bfloat16 and torch.isfinite(x.grad).all()
    # fp32 arithmetic on the bf16 values.
    torch.testing.assert_close(low, _reference(x.detach().float(), label)[0])


def test_bad_inputs():
    logits, label = _data(1, 4, 6, 6, 4)
    with pytest.raises(DataError, match='label 9 outside'):
        upsampled_cross_entropy(logits, torch.where(label == 2, 9, label), IGNORE)
    with pytest.raises(RuntimeError, match='not a multiple'):
        upsampled_cross_entropy(logits, label[:, :-1], IGNORE)
    with pytest.raises(RuntimeError, match=r'\(N, C, h, w\) logits'):
        upsampled_cross_entropy(logits[0], label, IGNORE)


def _samples(label):
    return [SegDataSample(gt_sem_seg=PixelData(data=lab[None])) for lab in label]


def _head(loss_type, align_corners=False, **loss_options):
    torch.manual_seed(0)
    return FoldedAllMLPHead(
        in_channels=[4, 8],
        in_index=[0, 1],
        channels=6,
        num_classes=5,
        dropout_ratio=0,
        norm_cfg=dict(type='BN'),
        loss_decode=dict(type=loss_type, loss_weight=0.7, **loss_options),
        align_corners=align_corners,
    )


@pytest.mark.parametrize(
    'options, label_size',
    [
        (dict(), (32, 40)),
        (dict(avg_non_ignore=True), (32, 40)),
        (dict(), (30, 40)),  # not a multiple of 8: mmseg's full-size path
        (dict(align_corners=True), (32, 40)),  # mmseg's full-size path
    ],
)
def test_head_loss_matches_mmseg(monkeypatch, options, label_size):
    loss_opts = {k: v for k, v in options.items() if k != 'align_corners'}
    head_opts = {k: v for k, v in options.items() if k == 'align_corners'}
    feats = [torch.randn(2, 4, 8, 10), torch.randn(2, 8, 4, 5)]
    g = torch.Generator().manual_seed(3)
    label = torch.randint(0, 5, (2, *label_size), generator=g)
    label[:, :3] = IGNORE
    calls = []
    real = module.upsampled_cross_entropy
    monkeypatch.setattr(
        'pvtv2_dense.models.losses.fused_cross_entropy.upsampled_cross_entropy',
        lambda *a: calls.append(1) or real(*a),
    )
    results = []
    for loss_type in ('FusedCrossEntropyLoss', 'CrossEntropyLoss'):
        head = _head(loss_type, **loss_opts, **head_opts)
        # Theirs: mmseg's own loss_by_feat and loss on the same head.
        loss_by_feat = (
            head.loss_by_feat
            if loss_type.startswith('Fused')
            else (lambda *a, head=head: BaseDecodeHead.loss_by_feat(head, *a))
        )
        losses = loss_by_feat(head(feats), _samples(label))
        losses['loss_ce'].backward()
        grads = [p.grad.clone() for p in head.parameters() if p.grad is not None]
        results.append((losses, grads))
    (ours, ours_grads), (theirs, theirs_grads) = results
    banded = label_size[0] % 8 == 0 and not head_opts
    assert len(calls) == int(banded)
    assert set(ours) == set(theirs) == {'loss_ce', 'acc_seg'}
    torch.testing.assert_close(ours['loss_ce'], theirs['loss_ce'])
    torch.testing.assert_close(ours['acc_seg'], theirs['acc_seg'])
    assert ours['acc_seg'].shape == theirs['acc_seg'].shape == (1,)
    assert len(ours_grads) == len(theirs_grads) > 0
    for a, b in zip(ours_grads, theirs_grads):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize('variant', ['two losses', 'sampler', 'mmseg loss'])
def test_head_full_size_path_matches_mmseg(monkeypatch, variant):
    """A sampler, two losses or a loss without ``resized_loss``: the logits are resized to the
    label as in mmseg (loss, accuracy and gradients as mmseg's ``loss_by_feat`` gives them)."""
    monkeypatch.setattr(
        'pvtv2_dense.models.losses.fused_cross_entropy.upsampled_cross_entropy',
        lambda *a: pytest.fail('banded loss used'),
    )
    feats = [torch.randn(2, 4, 8, 10), torch.randn(2, 8, 4, 5)]
    label = torch.randint(0, 5, (2, 32, 40), generator=torch.Generator().manual_seed(5))
    label[0, :4] = IGNORE
    results = []
    for impl in ('ours', 'mmseg'):
        head = _head('CrossEntropyLoss' if variant == 'mmseg loss' else 'FusedCrossEntropyLoss')
        if variant == 'two losses':
            second = _head('CrossEntropyLoss', avg_non_ignore=True).loss_decode
            head.loss_decode = torch.nn.ModuleList([head.loss_decode, second])
        if variant == 'sampler':
            from mmseg.structures import build_pixel_sampler

            head.sampler = build_pixel_sampler(
                dict(type='OHEMPixelSampler', min_kept=100), context=head
            )
        loss_by_feat = (
            head.loss_by_feat
            if impl == 'ours'
            else (lambda *a, head=head: BaseDecodeHead.loss_by_feat(head, *a))
        )
        losses = loss_by_feat(head(feats), _samples(label))
        losses['loss_ce'].backward()
        results.append((losses, [p.grad.clone() for p in head.parameters() if p.grad is not None]))
    (ours, ours_grads), (theirs, theirs_grads) = results
    assert set(ours) == set(theirs) == {'loss_ce', 'acc_seg'}
    torch.testing.assert_close(ours['loss_ce'], theirs['loss_ce'])
    torch.testing.assert_close(ours['acc_seg'], theirs['acc_seg'])
    assert 0 < float(ours['acc_seg']) < 100
    assert len(ours_grads) == len(theirs_grads) > 0
    for a, b in zip(ours_grads, theirs_grads):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)
