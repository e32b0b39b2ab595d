"""Official GLPDepth checkpoints (vinvino02/GLPDepth's module names) convert totally into our
GLPN configs, and the converted head computes what GLPDepth's decoder and depth layer compute."""

import os.path as osp

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.registry import MODELS, init_default_scope

from pvtv2_dense.checkpoint import to_official
from pvtv2_dense.checkpoint.glpdepth import glpdepth_to_depth_estimator, is_glpdepth
from pvtv2_dense.errors import CheckpointError
from tests.helpers.common import ROOT

GLPN_B0 = osp.join(ROOT, 'configs/glpn/glpn_pvtv2-b0_4xb3-25e_nyu-448x576.py')
GLPN_MIT_B4 = osp.join(ROOT, 'configs/glpn/glpn_mit-b4-pvtv2_4xb3-25e_nyu-448x576.py')
# GLPDepth feeds level 1 to its last fusion as it is (its width is the decoder's, 16) and has a
# 1x1 conv on every other level (ours has one where the widths differ).
TINY = dict(hidden_sizes=[16, 24, 32, 48], depths=[1, 1, 1, 1], num_attention_heads=[1, 2, 2, 4])


def _conv_bn_relu(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU())


class OfficialFusion(nn.Module):
    """GLPDepth's SelectiveFeatureFusion, its attribute names (conv1, conv2, conv3, sigmoid)."""

    def __init__(self, c):
        super().__init__()
        self.conv1 = _conv_bn_relu(2 * c, c)
        self.conv2 = _conv_bn_relu(c, c // 2)
        self.conv3 = nn.Conv2d(c // 2, 2, 3, padding=1)
        self.sigmoid = nn.Sigmoid()

    def forward(self, local, global_):
        w = self.sigmoid(self.conv3(self.conv2(self.conv1(torch.cat([local, global_], 1)))))
        return local * w[:, :1] + global_ * w[:, 1:]


class OfficialGLPDepthHead(nn.Module):
    """GLPDepth's ``decoder`` and ``last_layer_depth`` module tree (names and shapes), written
    from its description: 1x1 convs on levels 4-2, fusions deepest first, x2 upsampling."""

    def __init__(self, widths, c=64, max_depth=10.0):
        super().__init__()
        self.max_depth = max_depth
        self.decoder = nn.Module()
        self.decoder.bot_conv = nn.Conv2d(widths[3], c, 1)
        self.decoder.skip_conv1 = nn.Conv2d(widths[2], c, 1)
        self.decoder.skip_conv2 = nn.Conv2d(widths[1], c, 1)
        for k in (1, 2, 3):
            setattr(self.decoder, f'fusion{k}', OfficialFusion(c))
        self.last_layer_depth = nn.Sequential(
            nn.Conv2d(c, c, 3, padding=1), nn.ReLU(), nn.Conv2d(c, 1, 3, padding=1)
        )

    def forward(self, x1, x2, x3, x4):
        d = self.decoder

        def up(x):
            return F.interpolate(x, scale_factor=2.0, mode='bilinear', align_corners=False)

        out = up(d.bot_conv(x4))
        out = up(d.fusion1(d.skip_conv1(x3), out))
        out = up(d.fusion2(d.skip_conv2(x2), out))
        out = up(up(d.fusion3(x1, out)))
        return torch.sigmoid(self.last_layer_depth(out)) * self.max_depth


def _ours(config, tiny):
    cfg = Config.fromfile(config)
    init_default_scope('mmseg')
    if tiny:
        cfg.model.backbone.arch = TINY
        cfg.model.decode_head.in_channels = TINY['hidden_sizes']
        cfg.model.decode_head.channels = 16
    cfg.model.backbone.init_cfg = None
    return MODELS.build(cfg.model)


def _official_state_dict(ours, head, prefix=''):
    """A GLPDepth state dict: the encoder in official MiT names, the decoder from ``head``."""
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in head.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.1)
        for name, b in head.named_buffers():
            if name.endswith('running_var'):
                b.uniform_(0.5, 1.5, generator=g)
            elif name.endswith('running_mean'):
                b.normal_(0, 0.1, generator=g)
    backbone = {
        k[len('backbone.') :]: torch.randn(v.shape, generator=g, dtype=v.dtype)
        for k, v in ours.state_dict().items()
        if k.startswith('backbone.')
    }
    encoder = {f'encoder.{k}': v for k, v in to_official(backbone).items()}
    sd = {**encoder, **head.state_dict()}
    return {prefix + k: v for k, v in sd.items()}


@pytest.mark.parametrize('prefix', ['', 'module.'])
def test_every_official_key_lands_and_the_head_computes_glpdepth(prefix):
    ours = _ours(GLPN_B0, tiny=True).double().eval()
    official = OfficialGLPDepthHead(TINY['hidden_sizes'], c=16).double().eval()
    sd = _official_state_dict(ours, official, prefix)
    assert is_glpdepth(sd) and any(k.startswith(f'{prefix}encoder.block1.0.') for k in sd)
    converted, ignored = glpdepth_to_depth_estimator(sd)
    assert ignored == []
    missing, unexpected = ours.load_state_dict(converted, strict=False)
    assert missing == [] and unexpected == []
    encoder = {k[len(prefix) + len('encoder.') :]: v for k, v in sd.items() if 'encoder.' in k}
    kv = ours.backbone.layers[0].blocks[0].attn.kv.weight
    assert torch.equal(kv, encoder['block1.0.attn.kv.weight'])
    # Same depth from the same pyramid: the fusions are matched to the right levels.
    g = torch.Generator().manual_seed(1)
    feats = [
        torch.randn(1, c, 32 // 2**i, 48 // 2**i, generator=g, dtype=torch.float64)
        for i, c in enumerate(TINY['hidden_sizes'])
    ]
    with torch.no_grad():
        torch.testing.assert_close(ours.decode_head(feats), official(*feats), rtol=1e-9, atol=1e-9)


def test_official_mit_b4_checkpoint_loads_into_the_exact_glpn_config():
    ours = _ours(GLPN_MIT_B4, tiny=False)
    official = OfficialGLPDepthHead([64, 128, 320, 512], c=64)
    converted, ignored = glpdepth_to_depth_estimator(_official_state_dict(ours, official))
    assert ignored == []
    missing, unexpected = ours.load_state_dict(converted, strict=False)
    assert missing == [] and unexpected == []


def test_hf_keys_are_not_taken_for_glpdepth():
    hf = {'glpn.encoder.block.0.0.attention.self.query.weight': torch.zeros(1)}
    assert not is_glpdepth(hf)
    with pytest.raises(CheckpointError, match='not a GLPDepth state dict'):
        glpdepth_to_depth_estimator(hf)


def test_convert_glpn_tool_detects_the_glpdepth_layout(tmp_path, capsys):
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        'convert_glpn', osp.join(ROOT, 'tools/model_converters/convert_glpn.py')
    )
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    ours = _ours(GLPN_B0, tiny=True)
    src, dst = tmp_path / 'glpdepth_nyu.ckpt', tmp_path / 'converted.pth'
    torch.save(_official_state_dict(ours, OfficialGLPDepthHead(TINY['hidden_sizes'], 16)), src)
    tool.main([str(src), str(dst)])
    out = capsys.readouterr().out
    assert 'layout: official GLPDepth' in out and 'leave the backbone' in out
    assert 'left out 0 keys' in out
    ckpt = torch.load(dst, weights_only=True)
    assert ckpt['meta']['format'] == 'glpdepth'
    missing, unexpected = ours.load_state_dict(ckpt['state_dict'], strict=False)
    assert missing == [] and unexpected == []
