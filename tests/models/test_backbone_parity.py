"""Parity with HF transformers' PvtV2 and mmdet's PyramidVisionTransformerV2 in float32 (the
float64 proofs of exactness are in test_float64_parity.py), and the checkpoint formats."""

import pytest
import torch
from transformers import PvtV2Config, PvtV2ForImageClassification, PvtV2Model

from pvtv2_dense.checkpoint import detect_format, to_official, to_pvtv2_dense
from pvtv2_dense.models import PVTv2, PVTv2ImageClassifier

SMALL = dict(
    hidden_sizes=[16, 32, 64, 64],
    depths=[1, 2, 2, 1],
    num_attention_heads=[1, 2, 4, 4],
    mlp_ratios=[8, 8, 4, 4],
)
# HF's PvtV2 and mmdet's PVTv2 use one eps in every LayerNorm.
EPS = dict(layer_norm_eps=1e-6)


def _perturb(module, seed=0):
    """Random weights everywhere (LayerNorms included), so that every tensor matters."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(torch.randn(p.shape, generator=g) * 0.05)
    return module.eval()


def _hf(options, cls=PvtV2Model, **extra):
    torch.manual_seed(0)
    return _perturb(cls(PvtV2Config(**options, **extra)))


def _ours_from(hf_model, options, **kwargs):
    ours, fmt, _ = to_pvtv2_dense(hf_model.state_dict())
    assert fmt == 'hf_pvt_v2'
    model = PVTv2(dict(options, **EPS), **kwargs).eval()
    model.load_state_dict(ours, strict=True)
    return model


@pytest.mark.parametrize('linear', [False, True], ids=['sra', 'linear-sra'])
@pytest.mark.parametrize('size', [(64, 64), (97, 131)])
def test_features_equal_hf_hidden_states(linear, size):
    options = dict(SMALL, linear_attention=linear)
    hf = _hf(options)
    ours = _ours_from(hf, options)
    x = torch.randn(2, 3, *size)
    with torch.no_grad():
        ref = hf(x, output_hidden_states=True).hidden_states
        out = ours(x)
    assert len(out) == len(ref) == 4
    for a, b in zip(out, ref):
        assert a.shape == b.shape
        torch.testing.assert_close(a, b, atol=1e-5, rtol=0)


@pytest.mark.parametrize('act', ['gelu', 'gelu_new', 'relu', 'selu'])
def test_every_hidden_act_matches_hf(act):
    options = dict(SMALL, hidden_act=act)
    # transformers 4.57 documents 'selu' but its ACT2FN table lacks it: give HF the module.
    hf = _hf(dict(options, hidden_act=torch.nn.SELU()) if act == 'selu' else options)
    ours = _ours_from(hf, options)
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(ours(x)[-1], hf(x).last_hidden_state, atol=1e-5, rtol=0)


@pytest.mark.parametrize('linear', [False, True], ids=['sra', 'linear-sra'])
def test_classifier_logits_and_loss_equal_hf(linear):
    options = dict(SMALL, linear_attention=linear)
    hf = _hf(options, PvtV2ForImageClassification, num_labels=7)
    ours_sd, _, ignored = to_pvtv2_dense(hf.state_dict())
    assert set(ignored) == {'classifier.weight', 'classifier.bias'} or not ignored
    backbone = dict(type='PVTv2', arch=dict(options, **EPS))
    model = PVTv2ImageClassifier(backbone, num_classes=7).eval()
    model.backbone.load_state_dict(ours_sd, strict=True)
    model.head.load_state_dict(hf.classifier.state_dict())
    x, labels = torch.randn(3, 3, 64, 64), torch.tensor([0, 3, 6])
    with torch.no_grad():
        ref = hf(x, labels=labels)
        logits = model(x)
        loss = model.loss_of(logits, labels)
    torch.testing.assert_close(logits, ref.logits, atol=1e-5, rtol=0)
    torch.testing.assert_close(loss, ref.loss, atol=1e-5, rtol=0)


def test_single_label_is_regression_like_hf():
    hf = _hf(SMALL, PvtV2ForImageClassification, num_labels=1)
    model = PVTv2ImageClassifier(dict(type='PVTv2', arch=dict(SMALL, **EPS)), num_classes=1)
    model.eval().backbone.load_state_dict(to_pvtv2_dense(hf.state_dict())[0])
    model.head.load_state_dict(hf.classifier.state_dict())
    x, y = torch.randn(2, 3, 64, 64), torch.tensor([0.5, -1.0])
    with torch.no_grad():
        ref, loss = hf(x, labels=y), model.loss_of(model(x), y)
    torch.testing.assert_close(loss, ref.loss, atol=1e-5, rtol=0)


def test_features_equal_mmdet_pvtv2():
    from mmdet.models.backbones.pvt import PyramidVisionTransformerV2, pvt_convert

    torch.manual_seed(0)
    ours = _perturb(PVTv2(dict(SMALL, **EPS)))
    mmdet = PyramidVisionTransformerV2(
        embed_dims=16,
        num_layers=SMALL['depths'],
        num_heads=SMALL['num_attention_heads'],
        mlp_ratios=SMALL['mlp_ratios'],
        qkv_bias=True,
        norm_cfg=dict(type='LN', eps=1e-6),
    ).eval()
    # mmdet's own converter takes the official format: an independent path from ours.
    mmdet_sd = pvt_convert(to_official(ours.state_dict()))
    mmdet.load_state_dict(mmdet_sd, strict=True)
    x = torch.randn(2, 3, 97, 131)
    with torch.no_grad():
        for a, b in zip(ours(x), mmdet(x)):
            torch.testing.assert_close(a, b, atol=1e-5, rtol=0)
    # ... and our reading of mmdet's format gives back the very same tensors.
    back, fmt, _ = to_pvtv2_dense({'backbone.' + k: v for k, v in mmdet_sd.items()})
    assert fmt == 'mmdet'
    for k, v in ours.state_dict().items():
        assert torch.equal(back[k], v), k


@pytest.mark.parametrize('linear', [False, True], ids=['sra', 'linear-sra'])
def test_round_trip_through_official_is_exact(linear):
    ours = _perturb(PVTv2(dict(SMALL, linear_attention=linear)))
    official = to_official(ours.state_dict())
    assert detect_format(official) == 'official'
    assert 'block1.0.mlp.dwconv.dwconv.weight' in official
    assert 'block2.1.attn.kv.weight' in official
    back, fmt, ignored = to_pvtv2_dense({**official, 'head.weight': torch.zeros(1)})
    assert fmt == 'official' and ignored == ['head.weight']
    assert back.keys() == ours.state_dict().keys()
    for k, v in ours.state_dict().items():
        assert torch.equal(back[k], v), k


def _official_to_timm(official):
    """timm's pvt_v2 layout, written from its documented key names."""
    out = {}
    for k, v in official.items():
        k = k.replace('dwconv.dwconv', 'dwconv')
        if k.startswith('patch_embed1.'):
            k = k.replace('patch_embed1.', 'patch_embed.')
        for i in range(2, 5):
            k = k.replace(f'patch_embed{i}.', f'stages.{i - 1}.downsample.')
        for i in range(1, 5):
            k = k.replace(f'block{i}.', f'stages.{i - 1}.blocks.')
            if k.startswith(f'norm{i}.'):
                k = k.replace(f'norm{i}.', f'stages.{i - 1}.norm.')
        out[k] = v
    out['head.weight'] = torch.zeros(10, 64)
    return out


def _official_to_hf_segformer(official):
    """HF Segformer encoder layout (4.x names), with k and v split as HF stores them."""
    out = {}
    renames = [
        ('attn.q.', 'attention.self.query.'),
        ('attn.sr.', 'attention.self.sr.'),
        ('attn.norm.', 'attention.self.layer_norm.'),
        ('attn.proj.', 'attention.output.dense.'),
        ('norm1.', 'layer_norm_1.'),
        ('norm2.', 'layer_norm_2.'),
        ('mlp.fc1.', 'mlp.dense1.'),
        ('mlp.fc2.', 'mlp.dense2.'),
    ]
    for k, v in official.items():
        if k.startswith('block'):
            stage, rest = k[5], k.split('.', 1)[1]
            if '.attn.kv.' in rest:
                half = v.shape[0] // 2
                out[
                    f'segformer.encoder.block.{int(stage) - 1}.'
                    + rest.replace('attn.kv.', 'attention.self.key.')
                ] = v[:half]
                out[
                    f'segformer.encoder.block.{int(stage) - 1}.'
                    + rest.replace('attn.kv.', 'attention.self.value.')
                ] = v[half:]
                continue
            for a, b in renames:
                rest = rest.replace(a, b)
            out[f'segformer.encoder.block.{int(stage) - 1}.{rest}'] = v
        elif k.startswith('patch_embed'):
            stage, rest = k[11], k.split('.', 1)[1].replace('norm.', 'layer_norm.')
            out[f'segformer.encoder.patch_embeddings.{int(stage) - 1}.{rest}'] = v
        else:
            out[f'segformer.encoder.layer_norm.{int(k[4]) - 1}.' + k.split('.', 1)[1]] = v
    out['decode_head.classifier.weight'] = torch.zeros(3, 8, 1, 1)
    return out


@pytest.mark.parametrize(
    'make,fmt', [(_official_to_timm, 'timm'), (_official_to_hf_segformer, 'hf_segformer')]
)
def test_other_formats_load_exactly(make, fmt):
    ours = _perturb(PVTv2(dict(SMALL)))
    back, found, ignored = to_pvtv2_dense(make(to_official(ours.state_dict())))
    assert found == fmt
    assert back.keys() == ours.state_dict().keys()
    for k, v in ours.state_dict().items():
        assert torch.equal(back[k], v), k
