"""Exactness against each reference implementation, proven in float64.

In float32 two implementations of one network differ by rounding (1e-6 to 1e-5); in float64
rounding is about 1e-15, so a difference above 1e-9 is a difference of the networks (a LayerNorm
eps, an order of operations, a missing bias). Weights go through each reference's own
checkpoint format (HF state dicts, mmdet's converter from the official layout); batch 2, an odd
input size, b0 and b2-li (linear SRA), MiT-b0 for SegFormer's encoder.
"""

import pytest
import torch
from mmdet.models.backbones.pvt import PyramidVisionTransformerV2, pvt_convert
from mmengine.registry import init_default_scope
from mmseg.models.backbones.mit import MixVisionTransformer
from mmseg.registry import MODELS
from transformers import (
    GLPNConfig,
    GLPNForDepthEstimation,
    PvtV2Config,
    PvtV2Model,
    SegformerConfig,
    SegformerForSemanticSegmentation,
)

from pvtv2_dense.checkpoint import segformer_to_pvtv2_dense, to_official, to_pvtv2_dense
from pvtv2_dense.checkpoint.hf_glpn import glpn_model_cfg, hf_glpn_to_depth_estimator
from pvtv2_dense.models import PVTv2, resolve_arch

EXACT = 1e-9
SIZE = (97, 131)


def _perturbed(module, seed=0):
    """Random weights everywhere (LayerNorms and batch-norm statistics included), so that every
    tensor matters; in float64, eval mode."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(torch.randn(p.shape, generator=g) * 0.05)
        for name, b in module.named_buffers():
            if name.endswith('running_var'):
                b.uniform_(0.5, 1.5, generator=g)
            elif name.endswith('running_mean'):
                b.normal_(0, 0.1, generator=g)
    return module.double().eval()


def _input(seed=1):
    return torch.randn(2, 3, *SIZE, generator=torch.Generator().manual_seed(seed)).double()


def _max_diff(outs, refs):
    assert len(outs) == len(refs) > 0
    for a, b in zip(outs, refs):
        assert a.shape == b.shape
    return max((a - b).abs().max().item() for a, b in zip(outs, refs))


@pytest.mark.parametrize('arch', ['b0', 'b2-li'])
def test_hf_pvt_v2(arch):
    torch.manual_seed(0)
    hf = _perturbed(PvtV2Model(PvtV2Config(**resolve_arch(arch, layer_norm_eps=1e-6))))
    sd, fmt, _ = to_pvtv2_dense(hf.state_dict())
    assert fmt == 'hf_pvt_v2'
    ours = PVTv2(arch, layer_norm_eps=1e-6)
    ours.load_state_dict(sd, strict=True)
    x = _input()
    with torch.no_grad():
        diff = _max_diff(ours.double().eval()(x), hf(x, output_hidden_states=True).hidden_states)
    assert diff <= EXACT


def test_mmdet_pvt_v2():
    torch.manual_seed(0)
    ours = _perturbed(PVTv2('b0', layer_norm_eps=1e-6))
    opts = ours.arch
    mmdet = PyramidVisionTransformerV2(
        embed_dims=opts['hidden_sizes'][0],
        num_layers=opts['depths'],
        num_heads=opts['num_attention_heads'],
        mlp_ratios=opts['mlp_ratios'],
        qkv_bias=True,
        norm_cfg=dict(type='LN', eps=1e-6),
    )
    # mmdet's own converter, from the official layout: a path independent of ours.
    mmdet.load_state_dict(pvt_convert(to_official(ours.float().state_dict())), strict=True)
    mmdet.double().eval()
    x = _input()
    with torch.no_grad():
        assert _max_diff(ours.double()(x), mmdet(x)) <= EXACT


def test_mmseg_mix_vision_transformer():
    torch.manual_seed(0)
    ours = _perturbed(PVTv2('b0', mlp_ratios=[4, 4, 4, 4], layer_norm_eps=1e-6))
    opts = ours.arch
    mit = MixVisionTransformer(
        embed_dims=opts['hidden_sizes'][0],
        num_layers=opts['depths'],
        num_heads=opts['num_attention_heads'],
    )
    # mmseg's MiT keeps mmdet's PVTv2 layout: mmdet's converter writes it.
    mit.load_state_dict(pvt_convert(to_official(ours.float().state_dict())), strict=True)
    mit.double().eval()
    x = _input()
    with torch.no_grad():
        assert _max_diff(ours.double()(x), mit(x)) <= EXACT


def _segformer_b0():
    opts = resolve_arch('b0')
    torch.manual_seed(0)
    cfg = SegformerConfig(
        depths=opts['depths'],
        hidden_sizes=opts['hidden_sizes'],
        num_attention_heads=opts['num_attention_heads'],
        decoder_hidden_size=256,
        num_labels=11,
    )
    return _perturbed(SegformerForSemanticSegmentation(cfg))


def test_hf_segformer_encoder_head_and_logits():
    hf = _segformer_b0()
    sd, fmt, ignored = segformer_to_pvtv2_dense(hf.float().state_dict())
    assert fmt == 'hf_segformer+hf_segformer' and not ignored
    init_default_scope('mmseg')
    ours = MODELS.build(
        dict(
            type='EncoderDecoder',
            # HF Segformer: torch's default eps in every LayerNorm.
            backbone=dict(type='PVTv2', arch='b0', mlp_ratios=[4, 4, 4, 4], layer_norm_eps=1e-5),
            decode_head=dict(
                type='AllMLPHead', in_channels=[32, 64, 160, 256], channels=256, num_classes=11
            ),
        )
    )
    ours.load_state_dict(sd, strict=True)
    ours.double().eval()
    hf.double()
    x = _input()
    with torch.no_grad():
        ref = hf(x, output_hidden_states=True)
        feats = ours.backbone(x)
        assert _max_diff(feats, ref.hidden_states) <= EXACT
        # The decode head alone, on the same features.
        assert _max_diff([ours.decode_head(feats)], [hf.decode_head(ref.hidden_states)]) <= EXACT
        assert _max_diff([ours._forward(x)], [ref.logits]) <= EXACT


def test_hf_glpn_end_to_end():
    torch.manual_seed(0)
    hf = GLPNForDepthEstimation(GLPNConfig(max_depth=10))  # MiT-b0 encoder, 64-wide decoder
    hf = _perturbed(hf)
    init_default_scope('mmseg')
    overrides = glpn_model_cfg(hf.config.to_dict())
    ours = MODELS.build(
        dict(
            type='DepthEstimator',
            data_preprocessor=dict(type='SegDataPreProcessor'),
            backbone=dict(type='PVTv2', **overrides['backbone']),
            decode_head=dict(type='GLPNHead', **overrides['decode_head']),
        )
    )
    sd, ignored = hf_glpn_to_depth_estimator(hf.float().state_dict())
    assert ignored == []
    ours.load_state_dict(sd, strict=True)
    ours.double().eval()
    hf.double()
    x = torch.randn(2, 3, 96, 128, generator=torch.Generator().manual_seed(1)).double()
    with torch.no_grad():
        ref = hf(x).predicted_depth
        out = ours._forward(x)[:, 0]
    assert ref.std() > 0.01  # a constant map would hide a mapping error
    assert _max_diff([out], [ref]) <= EXACT


def test_norm_eps_follows_the_official_code_unless_given():
    def eps(model):
        stage = model.layers[0]
        block = stage.blocks[0]
        return dict(
            patch_embed=stage.patch_embed.norm.eps,
            reduction=block.attn.norm.eps,
            block=(block.norm1.eps, block.norm2.eps),
            stage=stage.norm.eps,
        )

    for arch in ('b0', 'b2-li'):
        assert eps(PVTv2(arch)) == dict(
            patch_embed=1e-5, reduction=1e-5, block=(1e-6, 1e-6), stage=1e-6
        )
        for value in (1e-6, 1e-5):
            assert eps(PVTv2(arch, layer_norm_eps=value)) == dict(
                patch_embed=value, reduction=value, block=(value, value), stage=value
            )
