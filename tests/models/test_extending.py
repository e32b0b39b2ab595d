"""docs/extending.md followed literally: the code blocks of "Add an attention variant" and "Add a
speed-up" are written to the files their ``# file:`` lines name (in a scratch tree beside the
repository, which stays untouched), and the result builds, runs and is checked from the
registry. Each walkthrough names exactly one new module and one new config: nothing else is
edited."""

import os
import os.path as osp
import re
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope, init_default_scope

import pvtv2_dense  # noqa: F401  (registers the models)
from pvtv2_dense.models import implementations
from pvtv2_dense.models.backbones import fast, pvt_v2_layers
from tests.helpers.common import ROOT

GUIDE = osp.join(ROOT, 'docs', 'extending.md')


def guide_files(section):
    """``{path: code}`` of the ``# file:`` blocks of the guide's ``## section``."""
    with open(GUIDE) as f:
        text = f.read()
    body = text.split(f'\n## {section}\n', 1)[1].split('\n## ', 1)[0]
    files = {}
    for block in re.findall(r'```python\n(.*?)```', body, re.S):
        first, _, code = block.partition('\n')
        if first.startswith('# file: '):
            files[first[len('# file: ') :]] = code
    return files


@pytest.fixture
def follow(tmp_path, monkeypatch):
    """Write a section's files into a scratch tree whose packages extend ours and whose configs
    see ours; return the built model of its config (registry entries are undone after)."""
    for component in implementations.REGISTRY:
        monkeypatch.setitem(
            implementations.REGISTRY, component, dict(implementations.REGISTRY[component])
        )
    for folder in ('configs/segformer', 'configs/_base_'):
        os.makedirs(tmp_path / osp.dirname(folder), exist_ok=True)
        os.symlink(osp.join(ROOT, folder), tmp_path / folder)
    for package in (pvt_v2_layers.__package__, fast.__name__):
        folder = tmp_path / package.replace('.', os.sep)
        folder.mkdir(parents=True, exist_ok=True)
        monkeypatch.setattr(
            sys.modules[package], '__path__', [*sys.modules[package].__path__, str(folder)]
        )
    before = set(sys.modules)

    def run(section):
        files = guide_files(section)
        for rel, code in files.items():
            assert not osp.exists(osp.join(ROOT, rel)), f'{rel} exists: the guide adds it'
            (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / rel).write_text(code)
        configs = [rel for rel in files if rel.startswith('configs/')]
        modules = [rel for rel in files if rel.startswith('pvtv2_dense/')]
        cfg = Config.fromfile(str(tmp_path / configs[0]))
        cfg.model.backbone.init_cfg = None  # no pretrained weights here
        init_default_scope('mmseg')
        with DefaultScope.overwrite_default_scope('mmseg'):
            from mmengine.registry import MODELS

            model = MODELS.build(cfg.model)
        return files, modules, configs, model

    yield run
    for name in set(sys.modules) - before:
        if name.startswith('pvtv2_dense.'):
            del sys.modules[name]


def _logits(model, x):
    with torch.no_grad():
        return model.eval()(x, mode='tensor')


def test_attention_variant_walkthrough(follow):
    files, modules, configs, model = follow('Add an attention variant')
    assert len(modules) == 1 and len(configs) == 1 and len(files) == 2
    entry = implementations.get('attention', 'temperature')
    assert not entry.is_fast
    attn = model.backbone.layers[0].blocks[0].attn
    assert type(attn).__name__ == 'TemperatureAttention'
    x = torch.randn(1, 3, 64, 64)
    out = _logits(model, x)
    blocks = [b for stage in model.backbone.layers for b in stage.blocks]
    for block in blocks:
        block.attn.temperature = 1.0  # temperature 1: the published attention
    published = _logits(model, x)
    assert torch.isfinite(out).all() and not torch.allclose(out, published)
    for block in blocks:
        block.attn.__class__ = pvt_v2_layers.SpatialReductionAttention
    torch.testing.assert_close(_logits(model, x), published, rtol=1e-5, atol=1e-6)


def test_speed_up_walkthrough(follow):
    files, modules, configs, model = follow('Add a speed-up')
    assert len(modules) == 1 and len(configs) == 1 and len(files) == 2
    entry = implementations.get('attention', 'explicit')
    assert entry.is_fast and entry.plain == 'sdpa'
    assert entry in implementations.speed_ups()  # so the registry's tests take it up
    entry.check()
    seams = set(pvt_v2_layers.SpatialReductionAttention.SEAMS)
    overridden = {n for n in vars(entry.build) if callable(vars(entry.build)[n])} - {'__init__'}
    assert overridden <= seams
    plain = implementations.plain_config({'backbone': {'attn_impl': 'explicit'}})
    assert plain == {'backbone': {'attn_impl': 'sdpa'}}
    x = torch.randn(1, 3, 64, 64)
    fast_out = _logits(model, x)
    for block in (b for stage in model.backbone.layers for b in stage.blocks):
        block.attn.__class__ = pvt_v2_layers.SpatialReductionAttention  # its plain twin
    torch.testing.assert_close(fast_out, _logits(model, x), rtol=1e-4, atol=1e-5)
