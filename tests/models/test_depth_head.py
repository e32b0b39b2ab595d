"""GLPN head: exact parity with HF GLPNForDepthEstimation, shapes for every PVTv2 width, loss."""

import pytest
import torch
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS
from transformers import GLPNConfig, GLPNForDepthEstimation

from pvtv2_dense.checkpoint.hf_glpn import glpn_model_cfg, hf_glpn_to_depth_estimator
from pvtv2_dense.models.backbones.pvt_v2 import ARCH_SETTINGS


@pytest.fixture(autouse=True)
def _mmseg_scope():
    """Each test builds in mmseg's scope, whatever ran before it."""
    init_default_scope('mmseg')


def _random_hf(decoder_width):
    torch.manual_seed(0)
    cfg = GLPNConfig(
        hidden_sizes=[16, 32, 48, 64],
        depths=[1, 2, 1, 1],
        num_attention_heads=[1, 2, 2, 4],
        decoder_hidden_size=decoder_width,
        max_depth=10,
    )
    hf = GLPNForDepthEstimation(cfg)
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():  # perturb everything, BN statistics included, so every tensor matters
        for p in hf.parameters():
            p.add_(torch.randn(p.shape, generator=g) * 0.05)
        for name, b in hf.named_buffers():
            if name.endswith('running_var'):
                b.uniform_(0.5, 1.5, generator=g)
            elif name.endswith('running_mean'):
                b.normal_(0, 0.1, generator=g)
    return hf.eval(), cfg


def _ours(cfg_overrides):
    return MODELS.build(
        dict(
            type='DepthEstimator',
            data_preprocessor=dict(type='SegDataPreProcessor'),
            backbone=dict(type='PVTv2', **cfg_overrides['backbone']),
            decode_head=dict(type='GLPNHead', **cfg_overrides['decode_head']),
            test_cfg=dict(mode='whole'),
        )
    ).eval()


# 16: stage 1 already has the decoder width (no projection, as GLPN); 24: it needs one (as b0).
@pytest.mark.parametrize('decoder_width', [16, 24])
def test_converted_hf_glpn_predicts_the_same_depth(decoder_width):
    hf, cfg = _random_hf(decoder_width)
    ours = _ours(glpn_model_cfg(cfg.to_dict()))
    sd, ignored = hf_glpn_to_depth_estimator(hf.state_dict())
    assert ignored == []
    ours.load_state_dict(sd, strict=True)
    x = torch.randn(2, 3, 64, 96)
    with torch.no_grad():
        ref = hf(x).predicted_depth
        out = ours._forward(x)[:, 0]
    assert out.shape == ref.shape == (2, 64, 96)
    assert ref.std() > 0.01  # a constant map would hide a mapping error
    assert (out - ref).abs().max() <= 1e-4


def test_converter_rejects_non_glpn_weights():
    with pytest.raises(ValueError, match='decoder.stages'):
        hf_glpn_to_depth_estimator({'segformer.encoder.layer_norm.0.weight': torch.ones(2)})


def _head(in_channels, **kw):
    return MODELS.build(dict(type='GLPNHead', in_channels=in_channels, channels=16, **kw)).eval()


@pytest.mark.parametrize('arch', sorted(ARCH_SETTINGS))
def test_head_shapes_for_every_width(arch):
    widths = ARCH_SETTINGS[arch]['hidden_sizes']
    head = _head(widths, max_depth=10.0)
    h, w = 64, 96
    feats = [torch.randn(2, c, h // s, w // s) for c, s in zip(widths, (4, 8, 16, 32))]
    with torch.no_grad():
        depth = head(feats)
    assert depth.shape == (2, 1, h, w)
    assert (depth > 0).all() and (depth < 10.0).all()
    # A level gets a projection exactly when its width differs from the decoder's.
    assert [isinstance(p, torch.nn.Conv2d) for p in head.projections] == [c != 16 for c in widths]


def test_head_handles_odd_input_sizes():
    head = _head([8, 16, 32, 32])
    feats = [torch.randn(1, c, s, s + 1) for c, s in zip([8, 16, 32, 32], (17, 9, 5, 3))]
    with torch.no_grad():
        assert head(feats).shape == (1, 1, 68, 72)


def test_loss_is_silog_on_valid_pixels():
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample

    head = _head([8, 16, 32, 32]).train()
    pred = torch.full((1, 1, 8, 8), 2.0)
    gt = torch.full((1, 8, 8), 4.0)
    gt[0, :4] = 1.0
    gt[0, 0, 0] = 0.0  # invalid: must be ignored
    sample = SegDataSample(gt_depth_map=PixelData(data=gt))
    loss = head.loss_by_feat(pred, [sample])['loss_silog']
    d = torch.log(gt[gt > 0]) - torch.log(torch.tensor(2.0))
    expected = torch.sqrt((d**2).mean() - 0.5 * d.mean() ** 2)
    torch.testing.assert_close(loss, expected, atol=1e-5, rtol=0)


def test_bad_head_arguments_are_named():
    with pytest.raises(ValueError, match='in_channels'):
        _head([8, 16, 32], in_index=(0, 1, 2, 3))
    with pytest.raises(ValueError, match='max_depth'):
        _head([8, 16, 32, 32], max_depth=0)
