"""A whole HF SegformerForSemanticSegmentation converted into our EncoderDecoder: same logits."""

import os.path as osp
import runpy
import sys

import pytest
import torch
import torch.nn.functional as F
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS
from transformers import SegformerConfig, SegformerForSemanticSegmentation

from pvtv2_dense.checkpoint import segformer_head_to_pvtv2_dense, segformer_to_pvtv2_dense
from pvtv2_dense.errors import CheckpointError
from tests.helpers.common import ROOT

SMALL = dict(
    hidden_sizes=[16, 32, 64, 64],
    depths=[1, 2, 2, 1],
    num_attention_heads=[1, 2, 4, 4],
    mlp_ratios=[4, 4, 4, 4],
)
E, CLASSES = 24, 7


@pytest.fixture(scope='module')
def hf_model():
    torch.manual_seed(0)
    model = SegformerForSemanticSegmentation(
        SegformerConfig(**SMALL, decoder_hidden_size=E, num_labels=CLASSES)
    )
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():  # random everywhere, BN statistics included, so every tensor matters
        for p in model.parameters():
            p.add_(torch.randn(p.shape, generator=g) * 0.05)
        bn = model.decode_head.batch_norm
        bn.running_mean.normal_(0, 0.5, generator=g)
        bn.running_var.uniform_(0.5, 2.0, generator=g)
    return model.eval()


def _ours(eps=1e-5):
    init_default_scope('mmseg')
    return MODELS.build(
        dict(
            type='EncoderDecoder',
            # HF Segformer's LayerNorms ignore config.layer_norm_eps and use torch's 1e-5.
            backbone=dict(type='PVTv2', arch=dict(SMALL, layer_norm_eps=eps)),
            decode_head=dict(
                type='AllMLPHead',
                in_channels=SMALL['hidden_sizes'],
                channels=E,
                num_classes=CLASSES,
                align_corners=False,
            ),
            test_cfg=dict(mode='whole'),
        )
    ).eval()


@pytest.mark.parametrize('size', [(64, 64), (97, 131)])
def test_logits_equal_hf(hf_model, size):
    sd, fmt, ignored = segformer_to_pvtv2_dense(hf_model.state_dict())
    assert fmt == 'hf_segformer+hf_segformer' and not ignored
    model = _ours()
    model.load_state_dict(sd, strict=True)
    x = torch.randn(2, 3, *size)
    metas = [dict(img_shape=size, ori_shape=size)] * 2
    with torch.no_grad():
        ref = hf_model(x).logits
        out = model._forward(x)  # 1/4-resolution logits, as HF returns them
        full = model.encode_decode(x, metas)
    assert out.shape == ref.shape
    assert (out - ref).abs().max() <= 1e-4
    ref_full = F.interpolate(ref, size=size, mode='bilinear', align_corners=False)
    assert (full - ref_full).abs().max() <= 1e-4


def test_official_head_keys_convert_to_the_same_weights(hf_model):
    """The official (mmseg 0.x) head names map onto the same tensors as HF's."""
    hf_head, _, _ = segformer_head_to_pvtv2_dense(hf_model.state_dict())
    official = {}
    for k, v in hf_head.items():
        k = k.replace('conv_seg.', 'linear_pred.')
        if k.startswith('linear_c.'):
            i = int(k.split('.')[1])
            k = f'linear_c{i + 1}.' + k.split('.', 2)[2]
        official[f'decode_head.{k}'] = v
    official['decode_head.conv_seg.weight'] = torch.zeros(CLASSES, 128, 1, 1)  # unused upstream
    out, fmt, ignored = segformer_head_to_pvtv2_dense(official)
    assert fmt == 'official' and ignored == ['conv_seg.weight']
    assert out.keys() == hf_head.keys()
    assert all(torch.equal(out[k], hf_head[k]) for k in out)


def test_no_head_is_a_clear_error():
    with pytest.raises(CheckpointError, match='no SegFormer all-MLP decode head'):
        segformer_head_to_pvtv2_dense({'backbone.layers.0.norm.weight': torch.zeros(2)})


def test_cli_and_init_cfg_loading(hf_model, tmp_path, monkeypatch, capsys):
    """The converter CLI output loads with load_from-style loading; init_cfg loads raw HF files."""
    from mmengine.runner import load_checkpoint
    from safetensors.torch import save_file

    src = tmp_path / 'model.safetensors'
    save_file({k: v.contiguous() for k, v in hf_model.state_dict().items()}, str(src))
    dst = tmp_path / 'ours.pth'
    tool = osp.join(ROOT, 'tools/model_converters/convert_segformer.py')
    monkeypatch.setattr(sys, 'argv', [tool, str(tmp_path), str(dst)])  # an HF model folder
    runpy.run_path(tool, run_name='__main__')
    assert 'num_classes 7' in capsys.readouterr().out
    with pytest.raises(SystemExit) as done:  # never overwrites silently
        runpy.run_path(tool, run_name='__main__')
    assert done.value.code == 2
    assert f'error: dst {dst} already exists' in capsys.readouterr().err

    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        ref = hf_model(x).logits
    model = _ours()
    load_checkpoint(model, str(dst), strict=True)  # what Runner's load_from does
    with torch.no_grad():
        assert (model._forward(x) - ref).abs().max() <= 1e-4

    init_default_scope('mmseg')
    model = _ours()
    model.backbone.init_cfg = dict(type='Pretrained', checkpoint=str(src))
    model.decode_head.init_cfg = dict(type='Pretrained', checkpoint=str(src))
    model.init_weights()
    with torch.no_grad():
        assert (model.eval()._forward(x) - ref).abs().max() <= 1e-4


def test_head_shape_mismatch_names_both_sides(hf_model, tmp_path):
    path = tmp_path / 'hf.pth'
    torch.save(hf_model.state_dict(), path)
    init_default_scope('mmseg')
    head = MODELS.build(
        dict(
            type='AllMLPHead',
            in_channels=SMALL['hidden_sizes'],
            channels=E,
            num_classes=150,
            init_cfg=dict(type='Pretrained', checkpoint=str(path)),
        )
    )
    with pytest.raises(CheckpointError, match=r'num_classes 7[\s\S]*num_classes 150'):
        head.init_weights()
