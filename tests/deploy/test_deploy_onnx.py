"""ONNX export: the exact adaptive pooling, every exportable task checked in ONNX Runtime, the
export tool end to end (detectors: tests/deploy/test_onnx_detectors.py)."""

import subprocess
import sys

import numpy as np
import pytest
import torch
from mmengine.config import Config
from torch import nn

from pvtv2_dense.apis.inference import build_model
from pvtv2_dense.deploy.adaptive_pool import ExportableAdaptiveAvgPool2d, swap_adaptive_pools
from pvtv2_dense.deploy.onnx import export_onnx, run_onnx, verify_onnx, verify_sizes
from pvtv2_dense.deploy.plain import TensorForward, build_plain_model
from pvtv2_dense.models import PVTv2
from tests.helpers.common import ROOT, TINY_ARCH
from tests.helpers.deploy import write_task

TOOL = [sys.executable, f'{ROOT}/tools/deployment/export_onnx.py']


@pytest.mark.parametrize('size', [(1, 1), (3, 5), (7, 7), (8, 9), (13, 6), (25, 33), (97, 131)])
def test_exportable_pool_equals_adaptive_avg_pool(size):
    x = torch.randn(2, 4, *size).contiguous(memory_format=torch.channels_last)
    for out in (7, (3, 5)):
        want = nn.AdaptiveAvgPool2d(out)(x)
        got = ExportableAdaptiveAvgPool2d(out)(x)
        assert got.shape == want.shape
        torch.testing.assert_close(got, want, atol=1e-6, rtol=0)


def test_swap_replaces_only_fixed_size_pools():
    model = PVTv2(dict(TINY_ARCH, depths=[1, 2, 1, 1], linear_attention=True))
    model.extra = nn.AdaptiveAvgPool2d((None, 3))  # a free output size is kept
    x = torch.randn(1, 3, 45, 61)
    with torch.no_grad():
        want = model.eval()(x)
        assert swap_adaptive_pools(model) == 5
        got = model(x)
    assert isinstance(model.extra, nn.AdaptiveAvgPool2d)
    assert not any(isinstance(m, nn.AdaptiveAvgPool2d) for m in model.layers.modules()), (
        'linear SRA pools left'
    )
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=0)


@pytest.mark.slow
@pytest.mark.parametrize('task', ['segformer', 'segformer_linear_sra', 'glpn', 'classifier'])
def test_dynamic_export_matches_pytorch(task, tmp_path):
    config, checkpoint = write_task(tmp_path, task)
    model = build_plain_model(Config.fromfile(config), checkpoint, config)
    out = str(tmp_path / f'{task}.onnx')
    info = export_onnx(model, out, (64, 96), dynamic=True)
    assert info['input_shape'] == ['N', 3, 'H', 'W']
    results = verify_onnx(out, model, verify_sizes((64, 96), True), tolerance=1e-4)
    assert [shape for shape, _ in results] == [(1, 3, 64, 96), (2, 3, 97, 131)]
    # The graph computes mode='tensor' of the model as configured (its speed-ups included).
    trained = build_model(Config.fromfile(config), checkpoint)
    x = torch.randn(1, 3, 80, 72)
    with torch.no_grad():
        want = TensorForward(trained)(x).numpy()
    got = run_onnx(out, x.numpy())
    assert want.std() > 1e-3  # a constant output would hide a wrong weight
    assert np.abs(got - want).max() <= 1e-4


@pytest.mark.slow
def test_tool_dynamic_verify_and_no_silent_overwrite(tmp_path):
    config, checkpoint = write_task(tmp_path, 'segformer')
    out = tmp_path / 'seg.onnx'
    args = [config, checkpoint, '--out', str(out), '--shape', '64', '64']
    run = subprocess.run([*TOOL, *args, '--dynamic', '--verify'], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "input ['N', 3, 'H', 'W']" in run.stdout
    assert 'verified (1, 3, 64, 64)' in run.stdout and 'verified (2, 3, 97, 131)' in run.stdout
    import onnx

    meta = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
    assert meta['dynamic'] == 'True' and int(meta['min_height']) > 1
    before = out.read_bytes()
    run = subprocess.run([*TOOL, *args], capture_output=True, text=True)
    assert run.returncode == 2
    assert run.stderr.strip().splitlines()[-1].startswith(f'error: --out {out} already exists')
    assert out.read_bytes() == before


@pytest.mark.slow
def test_checkpoint_of_another_model_is_refused(tmp_path):
    config, _ = write_task(tmp_path, 'segformer')
    _, other = write_task(tmp_path, 'glpn')
    run = subprocess.run(
        [*TOOL, config, other, '--out', str(tmp_path / 'x.onnx')], capture_output=True, text=True
    )
    assert run.returncode == 2
    assert run.stderr.strip().splitlines()[-1].startswith(f'error: checkpoint {other} does not')
