"""The peer benchmark compares like with like: each peer holds our weights and sees our input."""

import re

import pytest
import torch

from pvtv2_dense.utils import peer_models
from pvtv2_dense.utils.peer_models import (
    _detr_samples,
    build_detr,
    detr_step,
    glpn_step,
    segformer_step,
)

from .test_tools_cli import load_tool


@pytest.fixture(scope='module')
def detrs():
    return build_detr('ours', 'b0').eval(), build_detr('mmdet', 'b0').eval()


def _detr_outputs(model, size=128):
    """Per-decoder-layer scores and boxes; a non-finite value fails naming the first module
    (in execution order) that produced one (a NaN was seen once in a full run, not since)."""
    x = torch.randn(1, 3, size, size, generator=torch.Generator().manual_seed(3))
    first_bad = []

    def check(name, outputs):
        outputs = outputs if isinstance(outputs, (tuple, list)) else (outputs,)
        for out in outputs:
            if torch.is_tensor(out) and out.is_floating_point() and not out.isfinite().all():
                first_bad.append(f'{name} ({type(model).__name__}, output {tuple(out.shape)})')

    hooks = [
        module.register_forward_hook(lambda _, __, out, name=name: check(name, out))
        for name, module in model.named_modules()
    ]
    try:
        with torch.no_grad():
            outs = model(x, _detr_samples(1, size, size, 'cpu', with_gt=False), mode='tensor')
    finally:
        for hook in hooks:
            hook.remove()
    assert not first_bad, f'non-finite output first from {first_bad[0]}'
    return outs


def test_detr_peers_share_weights(detrs):
    ours, mmdet = detrs
    assert type(ours.backbone).__name__ == 'PVTv2'
    assert type(mmdet.backbone).__name__ == 'PyramidVisionTransformerV2'
    ref = _detr_outputs(ours)
    assert [t.shape for t in ref] == [(6, 1, 300, 80), (6, 1, 300, 4)]  # per decoder layer
    for a, b in zip(ref, _detr_outputs(mmdet)):
        assert (a - b).abs().max() <= 1e-4
    # The comparison sees the backbone: disturbing one of its weights changes the outputs.
    weight = mmdet.backbone.layers[1][0].projection.weight
    saved = weight.detach().clone()
    with torch.no_grad():
        # Noise, not a constant: the patch embedding's LayerNorm would cancel a uniform shift.
        weight.add_(torch.randn(weight.shape, generator=torch.Generator().manual_seed(4)))
    try:
        assert (ref[0] - _detr_outputs(mmdet)[0]).abs().max() > 1e-3
    finally:
        with torch.no_grad():
            weight.copy_(saved)


def test_detr_steps_run(monkeypatch):
    built = []
    monkeypatch.setattr(
        peer_models, 'build_detr', lambda *a: built.append(build_detr(*a)) or built[-1]
    )
    step = detr_step('mmdet', 'b0', mode='train', size=64)
    before = {k: v.detach().clone() for k, v in built[0].named_parameters()}
    step()  # forward, Hungarian-matched losses, backward and an AdamW update of every part
    for part in ('backbone.', 'neck.', 'encoder.', 'decoder.', 'bbox_head.'):
        name = next(k for k in before if k.startswith(part))
        assert not torch.equal(before[name], built[0].state_dict()[name]), name
    with torch.no_grad():
        result = detr_step('ours', 'b0', mode='infer', size=64)()
    assert result[0].pred_instances.bboxes.shape == (100, 4)
    with pytest.raises(ValueError, match='unknown implementation'):
        build_detr('timm', 'b0')
    with pytest.raises(RuntimeError, match='linear SRA'):
        build_detr('mmdet', 'b2-li')


@torch.no_grad()
def test_segformer_and_glpn_peers_match():
    ours, hf = segformer_step('ours', 'b0', size=64)(), segformer_step('hf', 'b0', size=64)()
    assert ours.shape == hf.shape == (1, 150, 16, 16)
    assert (ours - hf).abs().max() <= 1e-4
    ours, hf = glpn_step('ours', 'b0', size=64)(), glpn_step('hf', 'b0', size=64)()
    assert ours.shape == (1, 1, 64, 64) and hf.shape == (1, 64, 64)
    assert (ours[:, 0] - hf).abs().max() <= 1e-4


def test_benchmark_peers_detr_table(monkeypatch, capsys):
    tool = load_tool('tools/analysis_tools/benchmark_peers.py')
    argv = ['benchmark_peers.py', '--suites', 'deformable_detr', '--archs', 'b0']
    argv += ['--modes', 'infer', '--repeat', '1', '--det-size', '64']
    monkeypatch.setattr('sys.argv', argv)
    tool.main()
    rows = [r for r in capsys.readouterr().out.splitlines() if r.startswith('| deformable_detr')]
    assert len(rows) == 2, rows
    for impl, row in zip(('ours', 'mmdet'), rows):
        cells = [c.strip() for c in row.strip('|').split('|')]
        assert cells[:5] == ['deformable_detr', 'b0', '64', 'infer', impl], row
        assert float(cells[5]) > 0 and re.fullmatch(r'\d+\.\d\dx', cells[6]), row
    assert rows[0].split('|')[7].strip() == '1.00x'


def test_rounds_alternate_and_give_median_ratios(monkeypatch, capsys):
    tool = load_tool('tools/analysis_tools/benchmark_peers.py')
    calls, times = [], {'ours': [10.0, 30.0, 10.0], 'mmdet': [20.0, 30.0, 25.0]}

    def fake(builder, kwargs, device, repeat, warmup, grad, memory):
        impl = kwargs['impl']
        calls.append((impl, memory))
        return dict(median_ms=times[impl][sum(c[0] == impl for c in calls) - 1], peak_mb=1.0)

    monkeypatch.setattr(tool, 'measure_step_in_subprocess', fake)
    argv = ['benchmark_peers.py', '--suites', 'deformable_detr', '--archs', 'b0']
    monkeypatch.setattr('sys.argv', argv + ['--modes', 'infer', '--rounds', '3'])
    tool.main()
    # Alternating order; the memory run only in the first round.
    assert calls == [('ours', True), ('mmdet', True), ('mmdet', False), ('ours', False),
                     ('ours', False), ('mmdet', False)]  # fmt: skip
    rows = [r for r in capsys.readouterr().out.splitlines() if r.startswith('| deformable_detr')]
    cells = [[c.strip() for c in row.strip('|').split('|')] for row in rows]
    # Medians of the rounds (10, 25) and of the per-round ratios (2.0, 1.0, 2.5).
    assert cells[0][5:7] == ['10', '1.00x'] and cells[1][5:7] == ['25', '2.00x']
