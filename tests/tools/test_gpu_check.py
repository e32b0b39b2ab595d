"""tools/analysis_tools/gpu_check.sh: its plan (--dry-run) and its CPU part (--cpu) run here; the
GPU parts run where a GPU is lent."""

import os
import os.path as osp
import subprocess
import sys

import pytest

from tests.helpers.common import ROOT

SCRIPT = osp.join(ROOT, 'tools/analysis_tools/gpu_check.sh')


def _run(tmp_path, *args, **env):
    env = dict(os.environ, PYTHON=sys.executable, OUT=str(tmp_path / 'out'), **env)
    return subprocess.run(
        ['bash', SCRIPT, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=str(tmp_path),
        timeout=900,
    )


def test_dry_run_lists_every_step_and_runs_none(tmp_path):
    proc = _run(tmp_path, '--dry-run')
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for name in (
        'mmcv_cuda_ops',
        'cuda_tests',
        'train_steps',
        'benchmark',
        'msda_kernels',
        'tensorrt',
    ):
        assert f'| {name} | not run (--dry-run) |' in out
    assert '--device cuda --tasks segformer glpn deformable_detr panoptic classifier' in out
    assert '--precisions fp32 fp16 bf16' in out
    assert '--suites segformer --archs b0 b2' in out and '--suites deformable_detr panoptic' in out
    assert 'pvtv2_dense.benchmark.msda --device cuda' in out
    assert 'pvtv2_dense.benchmark.tensorrt --out' in out and '--archs b0' in out
    assert not list((tmp_path / 'out').iterdir())  # nothing ran


def test_unknown_option_is_refused(tmp_path):
    proc = _run(tmp_path, '--fast')
    assert proc.returncode == 2 and 'unknown option --fast' in proc.stderr


@pytest.mark.slow
def test_cpu_mode_trains_a_step_in_fp32_and_bf16_and_prints_the_table(tmp_path):
    proc = _run(tmp_path, '--cpu', TASKS='segformer')
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout.split('## gpu_check (cpu)')[1]  # the summary
    assert '| train_steps | ok,' in out and '| cuda_tests | skipped (--cpu) |' in out
    assert '| msda_kernels | skipped (--cpu) |' in out and '| tensorrt | skipped (--cpu) |' in out
    rows = [r for r in out.splitlines() if r.startswith('| segformer |')]
    assert [r.split(' | ')[1] for r in rows] == ['fp32', 'bf16-cpu']
    assert all(r.split(' | ')[4] == 'True' for r in rows)  # finite


def _fake_trtexec(folder, stdout, code=0):
    """A ``trtexec`` stand-in on the PATH that prints ``stdout`` and exits ``code``."""
    exe = folder / 'trtexec'
    exe.write_text(f"#!/bin/sh\ncat <<'OUT'\n{stdout}\nOUT\nexit {code}\n")
    exe.chmod(0o755)


@pytest.mark.slow  # exports SegFormer b0 to ONNX (about 10 s)
def test_tensorrt_rows_time_the_onnx_graph_with_trtexec(tmp_path, monkeypatch):
    from pvtv2_dense.benchmark import tensorrt

    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    monkeypatch.setenv('PATH', f'{bin_dir}{os.pathsep}{os.environ["PATH"]}')
    line = '[I] GPU Compute Time: min = 0.50 ms, max = 0.90 ms, mean = 0.61 ms, median = 0.60 ms'
    _fake_trtexec(bin_dir, line)
    rows = list(tensorrt.rows(str(tmp_path), ['b0'], size=64))
    assert rows == [
        '| segformer | b0 | 64 | fp32 | 0.61 | trtexec |',
        '| segformer | b0 | 64 | fp16 | 0.61 | trtexec |',
    ]
    assert (tmp_path / 'segformer_b0_64.onnx').stat().st_size > 0
    _fake_trtexec(bin_dir, '[E] Error: cannot build', code=1)
    rows = list(tensorrt.rows(str(tmp_path), ['b0'], size=64))
    assert all(
        '| FAILED: RuntimeError: trtexec exit 1: [E] Error: cannot build |' in r for r in rows
    )


def test_tensorrt_rows_say_why_they_are_skipped(monkeypatch):
    from pvtv2_dense.benchmark import tensorrt

    monkeypatch.setattr(tensorrt.shutil, 'which', lambda name: None)
    monkeypatch.setattr(tensorrt, '_tensorrt_python', lambda: False)
    rows = list(tensorrt.rows('unused', ['b0', 'b2']))
    assert len(rows) == 2 and all('skipped: neither trtexec nor tensorrt' in r for r in rows)
