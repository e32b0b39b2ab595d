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
