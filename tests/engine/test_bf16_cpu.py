"""bfloat16 mixed precision on the CPU (``CpuBf16OptimWrapper``, what ``tools/train.py --amp``
selects without a GPU): every task's quickstart model trains three steps through its own
``train_step`` under CPU autocast, with finite losses and weights, and losses within a stated
tolerance of the same steps in float32 (``pvtv2_dense.benchmark.train_steps``)."""

import math

import pytest
import torch

from pvtv2_dense.benchmark.train_steps import QUICKSTART, main, train_steps
from pvtv2_dense.engine import CpuBf16OptimWrapper

# bfloat16 keeps 8 significant bits (relative rounding 2**-9 per value); over a forward pass,
# a loss and two updates the losses drift from fp32's by up to ~0.5% here (Deformable DETR and
# Panoptic SegFormer, whose Hungarian matching can flip on near ties), the others by < 0.01%.
REL_TOL = 0.03


@pytest.mark.slow
@pytest.mark.parametrize('task', list(QUICKSTART))
def test_quickstart_model_trains_under_cpu_bf16_close_to_fp32(task):
    ref = train_steps(task, 'fp32')
    run = train_steps(task, 'bf16-cpu')
    assert ref['autocast'] == (False, torch.float32)
    assert run['autocast'] == (True, torch.bfloat16), 'the forward pass ran without autocast'
    assert run['finite'] and ref['finite']
    losses, ref_losses = run['losses'], ref['losses']
    assert all(math.isfinite(v) for v in losses + ref_losses)
    assert ref_losses[-1] < ref_losses[0]  # the steps do train
    worst = max(abs(a - b) / abs(b) for a, b in zip(losses, ref_losses))
    assert worst < REL_TOL, f'{task}: bf16 losses {losses} vs fp32 {ref_losses} ({worst:.2%})'


def test_cpu_bf16_wrapper_autocasts_only_inside_its_context():
    model = torch.nn.Linear(4, 2)
    optim = CpuBf16OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    with optim.optim_context(model):
        assert torch.is_autocast_enabled('cpu')
        out = model(torch.randn(3, 4))
    assert out.dtype == torch.bfloat16 and not torch.is_autocast_enabled('cpu')
    assert model.weight.dtype == torch.float32


def test_train_steps_table_reports_each_precision(capsys):
    assert main(['--tasks', 'segformer', '--precisions', 'fp32', 'bf16-cpu']) == 0
    rows = [r for r in capsys.readouterr().out.splitlines() if r.startswith('| segformer')]
    assert [r.split(' | ')[1] for r in rows] == ['fp32', 'bf16-cpu']
    assert 'True torch.bfloat16' in rows[1] and rows[1].split(' | ')[4] == 'True'
