"""FusedCrossEntropyLoss: mmseg's CrossEntropyLoss values and gradients, without log-softmax."""

import pytest
import torch
from mmseg.models.losses import CrossEntropyLoss

from pvtv2_dense.errors import DataError
from pvtv2_dense.models.losses import FusedCrossEntropyLoss, pixel_cross_entropy

IGNORE = 255


def _data(shape=(2, 7, 9, 11), seed=0):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(shape, generator=g) * 4
    label = torch.randint(0, shape[1], (shape[0], *shape[2:]), generator=g)
    label.view(-1)[::5] = IGNORE
    return logits, label


def _loss_and_grad(loss_fn, logits, label, **kwargs):
    x = logits.clone().requires_grad_()
    loss = loss_fn(x, label, ignore_index=IGNORE, **kwargs)
    loss.sum().backward()
    return loss.detach(), x.grad


@pytest.mark.parametrize(
    'options',
    [
        dict(),
        dict(avg_non_ignore=True),
        dict(reduction='sum'),
        dict(reduction='none'),
        dict(loss_weight=0.4),
        dict(class_weight=[0.5, 1.0, 2.0, 1.0, 1.0, 0.1, 3.0]),  # runs mmseg's own path
    ],
)
def test_matches_mmseg_cross_entropy(options):
    logits, label = _data()
    if 'class_weight' in options:
        label[label == IGNORE] = 1  # mmseg's class-weighted mean indexes the weights by label
    ours, theirs = FusedCrossEntropyLoss(**options), CrossEntropyLoss(**options)
    assert ours.loss_name == theirs.loss_name == 'loss_ce'
    a, ga = _loss_and_grad(ours, logits, label)
    b, gb = _loss_and_grad(theirs, logits, label)
    torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-6)
    torch.testing.assert_close(ga, gb, atol=1e-7, rtol=1e-5)
    assert ga.abs().sum() > 0


def test_pixel_weights_avg_factor_and_flat_inputs():
    logits, label = _data((3, 5, 4, 4), seed=1)
    weight = torch.rand(label.shape)
    for kwargs in (dict(weight=weight), dict(avg_factor=17.0)):
        a, ga = _loss_and_grad(FusedCrossEntropyLoss(), logits, label, **kwargs)
        b, gb = _loss_and_grad(CrossEntropyLoss(), logits, label, **kwargs)
        torch.testing.assert_close(a, b)
        torch.testing.assert_close(ga, gb)
    flat_logits, flat_label = logits.permute(0, 2, 3, 1).reshape(-1, 5), label.reshape(-1)
    ref = torch.nn.functional.cross_entropy(
        flat_logits, flat_label, reduction='none', ignore_index=IGNORE
    )
    torch.testing.assert_close(pixel_cross_entropy(flat_logits, flat_label, IGNORE), ref)


def test_ignored_pixels_get_no_loss_or_gradient_and_extreme_logits_stay_finite():
    logits, label = _data(seed=2)
    logits[:, :, 0, 0] = 1e4  # would overflow a naive exp
    loss, grad = _loss_and_grad(FusedCrossEntropyLoss(reduction='none'), logits, label)
    ignored = label == IGNORE
    assert torch.all(loss[ignored] == 0) and torch.all(grad.permute(0, 2, 3, 1)[ignored] == 0)
    assert torch.isfinite(loss).all() and torch.isfinite(grad).all()
    # bf16 logits: computed in fp32, gradient handed back in bf16.
    x = logits.bfloat16().requires_grad_()
    FusedCrossEntropyLoss()(x, label, ignore_index=IGNORE).backward()
    assert x.grad.dtype == torch.bfloat16 and torch.isfinite(x.grad.float()).all()


def test_label_out_of_range_is_named():
    logits, label = _data()
    label[0, 0, 0] = 9
    with pytest.raises(DataError, match=r'label 9 outside \[0, 7\)'):
        FusedCrossEntropyLoss()(logits, label, ignore_index=IGNORE)
