"""The peer benchmark compares like with like: each peer holds our weights and sees our input."""

import re

import pytest
import torch

from pvtv2_dense.benchmark import detr as detr_models
from pvtv2_dense.benchmark.detr import _detr_samples, build_detr, detr_step
from pvtv2_dense.benchmark.glpn import glpn_step
from pvtv2_dense.benchmark.segformer import segformer_step
from pvtv2_dense.errors import ConfigError
from tests.helpers.common import ROOT
from tests.helpers.tools import load_tool

DETR_B0 = f'{ROOT}/configs/deformable_detr/deformable-detr_pvtv2-b0_16xb2-50e_coco.py'
MIT_B0 = f'{ROOT}/configs/segformer/segformer_mit-b0_8xb2-160k_ade20k-512x512.py'


@pytest.fixture(scope='module')
def detrs():
    return build_detr('ours', DETR_B0).eval(), build_detr('mmdet', DETR_B0).eval()


def _detr_outputs(model, size=128):
    """Per-decoder-layer scores and boxes; a non-finite value fails naming the first module
    (in execution order) that produced one (uninitialised mmdet parameters once gave NaNs)."""
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
    # Ours runs the config's lean deformable attention on the CPU, mmdet's detector mmcv's own.
    kinds = [
        {type(m).__name__ for m in model.modules() if hasattr(m, 'sampling_offsets')}
        for model in detrs
    ]
    assert kinds == [{'LeanMultiScaleDeformableAttention'}, {'MultiScaleDeformableAttention'}]
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
        detr_models, 'build_detr', lambda *a: built.append(build_detr(*a)) or built[-1]
    )
    step = detr_step('mmdet', 'b0', DETR_B0, mode='train', size=64)
    before = {k: v.detach().clone() for k, v in built[0].named_parameters()}
    step()  # forward, Hungarian-matched losses, backward and an AdamW update of every part
    for part in ('backbone.', 'neck.', 'encoder.', 'decoder.', 'bbox_head.'):
        name = next(k for k in before if k.startswith(part))
        assert not torch.equal(before[name], built[0].state_dict()[name]), name
    with torch.no_grad():
        result = detr_step('ours', 'b0', DETR_B0, mode='infer', size=64)()
    assert result[0].pred_instances.bboxes.shape == (100, 4)
    with pytest.raises(ConfigError, match='unknown implementation'):
        build_detr('timm', DETR_B0)
    with pytest.raises(ConfigError, match='linear SRA'):
        build_detr('mmdet', DETR_B0.replace('b0', 'b2-li'))


@torch.no_grad()
def test_segformer_and_glpn_peers_match():
    ours = segformer_step('ours', 'b0', MIT_B0, size=64)()
    hf = segformer_step('hf', 'b0', MIT_B0, size=64)()
    assert ours.shape == hf.shape == (1, 150, 16, 16)
    assert (ours - hf).abs().max() <= 1e-4
    ours, hf = glpn_step('ours', 'b0', size=64)(), glpn_step('hf', 'b0', size=64)()
    assert ours.shape == (1, 1, 64, 64) and hf.shape == (1, 64, 64)
    assert (ours[:, 0] - hf).abs().max() <= 1e-4


@pytest.mark.slow
def test_onnxruntime_peer_runs_our_weights():
    with torch.no_grad():
        ours = segformer_step('ours', 'b0', MIT_B0, size=64)()
    (got,) = segformer_step('onnxruntime', 'b0', MIT_B0, size=64)()
    assert got.shape == (1, 150, 16, 16)
    assert abs(got - ours.numpy()).max() <= 1e-4
    with pytest.raises(ValueError, match='CPU inference only'):
        segformer_step('onnxruntime', 'b0', MIT_B0, mode='train', size=64)


@pytest.mark.slow
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
        assert cells[5] != 'n/a', row
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
    assert calls == [
        ('ours', True),
        ('mmdet', True),
        ('mmdet', False),
        ('ours', False),
        ('ours', False),
        ('mmdet', False),
    ]
    rows = [r for r in capsys.readouterr().out.splitlines() if r.startswith('| deformable_detr')]
    cells = [[c.strip() for c in row.strip('|').split('|')] for row in rows]
    # Medians of the rounds (10, 25) and of the per-round ratios (2.0, 1.0, 2.5).
    assert cells[0][5:7] == ['10', '1.00x'] and cells[1][5:7] == ['25', '2.00x']


# A builder for measure_steps_paired: ``impl`` names a step that logs its runs; 'broken' raises.
PAIRED_LOG = []


def logged_step(impl, device='cpu'):
    if impl == 'broken':
        raise RuntimeError('cannot build')
    return lambda: PAIRED_LOG.append(impl)


def test_paired_steps_alternate_in_one_process():
    from pvtv2_dense.benchmark.timing import measure_steps_paired

    PAIRED_LOG.clear()
    kwargs = [dict(impl='a'), dict(impl='broken'), dict(impl='b')]
    with torch.enable_grad():
        results = measure_steps_paired(f'{__name__}:logged_step', kwargs, repeat=3, warmup=1)
        assert torch.is_grad_enabled()  # its grad=False holds inside the call only
    # One warm-up run each, then every iteration runs each step once, reversed every other time.
    assert PAIRED_LOG == ['a', 'b', 'a', 'b', 'b', 'a', 'a', 'b']
    assert results[1] == {'error': 'RuntimeError: cannot build'}
    for result in results[0], results[2]:
        times = result['times_ms']
        assert len(times) == 3 and result['median_ms'] == sorted(times)[1] > 0


def test_paired_table_gives_per_iteration_ratios(monkeypatch, capsys):
    tool = load_tool('tools/analysis_tools/benchmark_peers.py')
    calls, memory = [], []
    times = {
        'ours': [[10.0, 40.0, 10.0], [20.0, 20.0, 20.0]],
        'mmdet': [[20.0, 40.0, 30.0], [50.0, 10.0, 20.0]],
    }

    def fake_paired(builder, kwargs_list, device, repeat, warmup, grad):
        impls = [k['impl'] for k in kwargs_list]
        calls.append(impls)
        return [dict(times_ms=times[i][len(calls) - 1]) for i in impls]

    def fake_memory(builder, kwargs, device, grad):
        memory.append(kwargs['impl'])
        return dict(peak_mb=7.0 if kwargs['impl'] == 'ours' else 9.0)

    monkeypatch.setattr(tool, 'measure_steps_paired_in_subprocess', fake_paired)
    monkeypatch.setattr(tool, 'peak_memory_in_subprocess', fake_memory)
    monkeypatch.setattr(tool, 'measure_step_in_subprocess', lambda *a, **k: 1 / 0)
    argv = ['benchmark_peers.py', '--suites', 'deformable_detr', '--archs', 'b0', '--modes']
    monkeypatch.setattr('sys.argv', argv + ['infer', '--rounds', '2', '--repeat', '3', '--paired'])
    tool.main()
    assert calls == [['ours', 'mmdet'], ['mmdet', 'ours']] and memory == ['ours', 'mmdet']
    rows = [r for r in capsys.readouterr().out.splitlines() if r.startswith('| deformable_detr')]
    cells = [[c.strip() for c in row.strip('|').split('|')] for row in rows]
    # Median runs (20, 25) and median of the six paired ratios (2, 1, 3, 2.5, 0.5, 1) = 1.5.
    assert cells[0][5:] == ['20', '1.00x', '7'] and cells[1][5:] == ['25', '1.50x', '9']
