"""The official Panoptic SegFormer checkpoint converter, on a state dict in the official layout.

The official state dict is built here from the module names and shapes of
github.com/zhiqi-li/Panoptic-SegFormer (mmdet 2.12 / mmcv 1.3 ``BaseTransformerLayer``s inside
``PanformerHead.transformer``, ``MaskHead`` blocks), not from our converter's rules.
"""

import subprocess
import sys

import pytest
import torch
from mmdet.registry import MODELS
from mmengine.config import Config
from mmengine.registry import init_default_scope

from pvtv2_dense.checkpoint import read_state_dict, to_official
from pvtv2_dense.checkpoint.panoptic_segformer import panoptic_segformer_to_pvtv2_dense
from tests.helpers.common import ROOT
from tests.helpers.panoptic import EMBED, PAN_QUICKSTART, tiny_panoptic_model

CLI = [sys.executable, f'{ROOT}/tools/model_converters/convert_panoptic_segformer.py']
HEADS, LEVELS, POINTS, FFN = 2, 4, 4, 64


def _linear(sd, name, out_dim, in_dim):
    sd[f'{name}.weight'] = (out_dim, in_dim)
    sd[f'{name}.bias'] = (out_dim,)


def _norm(sd, name, dim=EMBED):
    sd[f'{name}.weight'] = sd[f'{name}.bias'] = (dim,)


def _deformable(sd, name, c=EMBED):
    _linear(sd, f'{name}.sampling_offsets', HEADS * LEVELS * POINTS * 2, c)
    _linear(sd, f'{name}.attention_weights', HEADS * LEVELS * POINTS, c)
    _linear(sd, f'{name}.value_proj', c, c)
    _linear(sd, f'{name}.output_proj', c, c)


def _mmcv1_ffn(sd, name, c=EMBED):
    _linear(sd, f'{name}.layers.0.0', FFN, c)  # Sequential(Linear, act, dropout)
    _linear(sd, f'{name}.layers.1', c, FFN)


def _mask_attention(sd, name, with_value, c=EMBED):
    for part in ('q', 'k', 'v', 'proj') if with_value else ('q', 'k'):
        _linear(sd, f'{name}.{part}', c, c)
    for level in (1, 2, 3):
        _linear(sd, f'{name}.linear_l{level}.0', HEADS, HEADS)
    _linear(sd, f'{name}.linear.0', 1, HEADS * 3)


def _mask_head(sd, name, layers, self_attn, c=EMBED):
    for i in range(layers):
        block = f'{name}.blocks.{i}'
        _mask_attention(sd, f'{block}.attn', True)
        _norm(sd, f'{block}.head_norm1')
        _norm(sd, f'{block}.head_norm2')
        _linear(sd, f'{block}.mlp.fc1', 4 * c, c)
        _linear(sd, f'{block}.mlp.fc2', c, 4 * c)
        if self_attn:
            _linear(sd, f'{block}.self_attention.qkv', 3 * c, c)
            _linear(sd, f'{block}.self_attention.proj', c, c)
            _norm(sd, f'{block}.norm3')
    _mask_attention(sd, f'{name}.attnen', False)


def official_shapes(model, things=3, stuff=4, queries=10, enc=1, dec=2, mask_layers=2):
    """Names and shapes of an official PanSeg state dict of the tiny model's sizes."""
    c = EMBED
    sd = {}
    for i in range(enc):
        layer = f'bbox_head.transformer.encoder.layers.{i}'
        _deformable(sd, f'{layer}.attentions.0')
        _mmcv1_ffn(sd, f'{layer}.ffns.0')
        for n in range(2):
            _norm(sd, f'{layer}.norms.{n}')
    for i in range(dec):
        layer = f'bbox_head.transformer.decoder.layers.{i}'
        sd[f'{layer}.attentions.0.attn.in_proj_weight'] = (3 * c, c)
        sd[f'{layer}.attentions.0.attn.in_proj_bias'] = (3 * c,)
        _linear(sd, f'{layer}.attentions.0.attn.out_proj', c, c)
        _deformable(sd, f'{layer}.attentions.1')
        _mmcv1_ffn(sd, f'{layer}.ffns.0')
        for n in range(3):
            _norm(sd, f'{layer}.norms.{n}')
        _linear(sd, f'bbox_head.cls_branches.{i}', things, c)
        for k, out_dim in ((0, c), (2, c), (4, 4)):
            _linear(sd, f'bbox_head.reg_branches.{i}.{k}', out_dim, c)
    sd['bbox_head.transformer.level_embeds'] = (LEVELS, c)
    _linear(sd, 'bbox_head.transformer.reference_points', 2, c)
    sd['bbox_head.query_embedding.weight'] = (queries, 2 * c)
    sd['bbox_head.stuff_query.weight'] = (stuff, 2 * c)
    for j in range(mask_layers):
        # Built and trained with zero weight by the official head, unused at inference.
        for k, out_dim in ((0, c), (2, c), (4, 4)):
            _linear(sd, f'bbox_head.reg_branches2.{j}.{k}', out_dim, c)
        _linear(sd, f'bbox_head.cls_thing_branches.{j}', things, c)
        _linear(sd, f'bbox_head.cls_stuff_branches.{j}', 1, c)
    _mask_head(sd, 'bbox_head.things_mask_head', mask_layers, self_attn=False)
    _mask_head(sd, 'bbox_head.stuff_mask_head', mask_layers, self_attn=True)
    # mmcv's ChannelMapper is the same module in both stacks.
    ours = model.state_dict()
    sd.update({k: tuple(v.shape) for k, v in ours.items() if k.startswith('neck.')})
    backbone = {k[len('backbone.') :]: v for k, v in ours.items() if k.startswith('backbone.')}
    sd.update({'backbone.' + k: tuple(v.shape) for k, v in to_official(backbone).items()})
    return sd


@pytest.fixture(scope='module')
def tiny():
    cfg = tiny_panoptic_model(Config.fromfile(PAN_QUICKSTART))
    init_default_scope('mmdet')
    model = MODELS.build(cfg.model)
    g = torch.Generator().manual_seed(0)
    official = {k: torch.randn(s, generator=g) for k, s in official_shapes(model).items()}
    return model, official


def test_official_layout_loads_strictly_and_lands_where_it_belongs(tiny):
    model, official = tiny
    ours, ignored = panoptic_segformer_to_pvtv2_dense(official)
    model.load_state_dict(ours, strict=True)  # every tensor covered, every shape right
    assert sorted(ignored) == sorted(
        k for k in official if k.startswith(('bbox_head.reg_branches2.', 'bbox_head.cls_thing_'))
    )
    pairs = {
        'encoder.layers.0.self_attn.sampling_offsets.weight': 'bbox_head.transformer.encoder'
        '.layers.0.attentions.0.sampling_offsets.weight',
        'encoder.layers.0.ffn.layers.1.weight': 'bbox_head.transformer.encoder.layers.0.ffns.0'
        '.layers.1.weight',
        'decoder.layers.1.self_attn.attn.in_proj_weight': 'bbox_head.transformer.decoder.layers'
        '.1.attentions.0.attn.in_proj_weight',
        'decoder.layers.1.cross_attn.value_proj.bias': 'bbox_head.transformer.decoder.layers.1'
        '.attentions.1.value_proj.bias',
        'decoder.layers.1.norms.2.weight': 'bbox_head.transformer.decoder.layers.1.norms.2.weight',
        'level_embed': 'bbox_head.transformer.level_embeds',
        'reference_points_fc.weight': 'bbox_head.transformer.reference_points.weight',
        'query_embedding.weight': 'bbox_head.query_embedding.weight',
        'bbox_head.reg_branches.1.4.bias': 'bbox_head.reg_branches.1.4.bias',
        'bbox_head.stuff_cls_branches.1.weight': 'bbox_head.cls_stuff_branches.1.weight',
        'bbox_head.thing_mask_decoder.layers.1.cross_attn.level_fcs.2.weight': 'bbox_head'
        '.things_mask_head.blocks.1.attn.linear_l3.0.weight',
        'bbox_head.thing_mask_decoder.layers.0.cross_attn.mask_fc.bias': 'bbox_head'
        '.things_mask_head.blocks.0.attn.linear.0.bias',
        'bbox_head.thing_mask_decoder.layers.0.norm1.weight': 'bbox_head.things_mask_head'
        '.blocks.0.head_norm1.weight',
        'bbox_head.thing_mask_decoder.layers.0.ffn.2.weight': 'bbox_head.things_mask_head'
        '.blocks.0.mlp.fc2.weight',
        'bbox_head.stuff_mask_decoder.layers.1.norm_self.bias': 'bbox_head.stuff_mask_head'
        '.blocks.1.norm3.bias',
        'bbox_head.stuff_mask_decoder.final_attn.level_fcs.0.weight': 'bbox_head'
        '.stuff_mask_head.attnen.linear_l1.0.weight',
        'bbox_head.stuff_mask_decoder.final_attn.k.weight': 'bbox_head.stuff_mask_head.attnen'
        '.k.weight',
    }
    for our_key, official_key in pairs.items():
        assert torch.equal(ours[our_key], official[official_key]), our_key


def test_stuff_self_attention_computes_the_official_formula(tiny):
    """The official qkv Linear (rows q, k, v; heads contiguous) = torch's MultiheadAttention."""
    model, official = tiny
    model.load_state_dict(panoptic_segformer_to_pvtv2_dense(official)[0])
    prefix = 'bbox_head.stuff_mask_head.blocks.0.self_attention'
    x = torch.randn(2, 4, EMBED, generator=torch.Generator().manual_seed(1))
    b, n, c = x.shape
    qkv = x @ official[f'{prefix}.qkv.weight'].T + official[f'{prefix}.qkv.bias']
    q, k, v = qkv.reshape(b, n, 3, HEADS, c // HEADS).permute(2, 0, 3, 1, 4)
    attn = ((q @ k.transpose(-2, -1)) * (c // HEADS) ** -0.5).softmax(-1)
    expected = (attn @ v).transpose(1, 2).reshape(b, n, c)
    expected = expected @ official[f'{prefix}.proj.weight'].T + official[f'{prefix}.proj.bias']
    layer = model.bbox_head.stuff_mask_decoder.layers[0].self_attn
    with torch.no_grad():
        got = layer(x, x, x)[0]
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)


def test_cli_writes_a_checkpoint_our_model_loads(tiny, tmp_path):
    model, official = tiny
    src, dst = tmp_path / 'panoptic_segformer_official.pth', tmp_path / 'ours.pth'
    torch.save({'meta': {'epoch': 24}, 'state_dict': official}, src)
    run = subprocess.run([*CLI, str(src), str(dst)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert '3 things + 4 stuff; 10 thing queries' in run.stdout
    assert '2 thing layers, 2 stuff layers' in run.stdout
    model.load_state_dict(read_state_dict(str(dst)), strict=True)
    again = subprocess.run([*CLI, str(src), str(dst)], capture_output=True, text=True)
    assert again.returncode == 2 and '--overwrite' in again.stderr


def test_cli_names_a_checkpoint_of_another_model(tmp_path):
    src = tmp_path / 'backbone_only.pth'
    torch.save({'patch_embed1.proj.weight': torch.zeros(8, 3, 7, 7)}, src)
    run = subprocess.run(
        [*CLI, str(src), str(tmp_path / 'out.pth')], capture_output=True, text=True
    )
    assert run.returncode == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and str(src) in lines[0] and 'bbox_head.transformer' in lines[0]
    assert not (tmp_path / 'out.pth').exists()
