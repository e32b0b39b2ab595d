"""The classifier against HF's PvtV2ForImageClassification, and released classifiers by path.

float64, so that a difference above 1e-9 is a difference of the networks (see
test_float64_parity.py). Weights go in through the model's own ``load_state_dict``, which
converts the HF, official and timm layouts (head included) as ``tools/test.py`` meets them.
"""

import pytest
import torch
from transformers import PvtV2Config, PvtV2ForImageClassification

from pvtv2_dense.checkpoint import to_official
from pvtv2_dense.checkpoint.classifier import classifier_to_pvtv2_dense
from pvtv2_dense.models import PVTv2ImageClassifier

EXACT = 1e-9
SMALL = dict(
    hidden_sizes=[16, 32, 64, 64],
    depths=[1, 2, 2, 1],
    num_attention_heads=[1, 2, 4, 4],
    mlp_ratios=[8, 8, 4, 4],
)


def _hf(num_labels, **options):
    torch.manual_seed(0)
    hf = PvtV2ForImageClassification(PvtV2Config(**SMALL, **options, num_labels=num_labels))
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in hf.parameters():
            p.add_(torch.randn(p.shape, generator=g) * 0.05)
    return hf.double().eval()


def _ours(num_labels, **options):
    # HF PvtV2 uses one eps (its config's, 1e-6) in every LayerNorm.
    arch = dict(SMALL, layer_norm_eps=1e-6, **options)
    return PVTv2ImageClassifier(dict(type='PVTv2', arch=arch), num_classes=num_labels)


def _images(seed=1):
    return torch.randn(2, 3, 97, 131, generator=torch.Generator().manual_seed(seed)).double()


@pytest.mark.parametrize('linear', [False, True], ids=['sra', 'linear-sra'])
def test_logits_and_loss_equal_hf_in_float64(linear):
    hf = _hf(7, linear_attention=linear)
    model = _ours(7, linear_attention=linear)
    result = model.load_state_dict(hf.state_dict(), strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    model = model.double().eval()
    x, labels = _images(), torch.tensor([0, 6])
    with torch.no_grad():
        ref = hf(x, labels=labels)
        logits = model(x)
        loss = model.loss_of(logits, labels)
    assert (logits - ref.logits).abs().max().item() <= EXACT
    assert abs(loss.item() - ref.loss.item()) <= EXACT


def test_one_label_is_mse_regression_like_hf():
    hf, model = _hf(1), _ours(1)
    model.load_state_dict(hf.state_dict(), strict=True)
    model = model.double().eval()
    x, y = _images(), torch.tensor([0.5, -1.0], dtype=torch.float64)
    with torch.no_grad():
        ref = hf(x, labels=y)
        loss = model.loss_of(model(x), y)
    assert ref.loss.item() > 0
    assert abs(loss.item() - ref.loss.item()) <= EXACT


def _official(hf):
    ours = classifier_to_pvtv2_dense(hf.state_dict())
    backbone = {k[len('backbone.') :]: v for k, v in ours.items() if k.startswith('backbone.')}
    out = to_official(backbone)
    out.update({'head.weight': ours['head.weight'], 'head.bias': ours['head.bias']})
    return out


def _timm(hf):
    out = {}
    for k, v in _official(hf).items():
        for i in range(1, 5):
            stage = f'stages.{i - 1}.'
            if k.startswith(f'patch_embed{i}.'):
                head = f'stages.{i - 1}.downsample.' if i > 1 else 'patch_embed.'
                k = head + k.split('.', 1)[1]
            elif k.startswith(f'block{i}.'):
                k = stage + 'blocks.' + k.split('.', 1)[1].replace('dwconv.dwconv.', 'dwconv.')
            elif k.startswith(f'norm{i}.'):
                k = stage + 'norm.' + k.split('.', 1)[1]
        out[k] = v
    return out


@pytest.mark.parametrize('make', [_official, _timm], ids=['official', 'timm'])
def test_official_and_timm_classifiers_load_with_their_head(make):
    hf = _hf(5)
    foreign = make(hf)
    assert 'head.weight' in foreign and not any(k.startswith('backbone.') for k in foreign)
    model = _ours(5)
    result = model.load_state_dict(foreign, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    model = model.double().eval()
    with torch.no_grad():
        diff = (model(_images()) - hf(_images()).logits).abs().max().item()
    assert diff <= EXACT
