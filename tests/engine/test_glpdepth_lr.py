"""GLPDepthLR: GLPDepth's closed-form lr curve, per iteration, from an epoch-based config."""

import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import PARAM_SCHEDULERS, init_default_scope
from mmseg.registry import PARAM_SCHEDULERS as MMSEG_SCHEDULERS

from pvtv2_dense.engine import GLPDepthLR
from pvtv2_dense.errors import ConfigError
from tests.helpers.common import ROOT

MAX_LR, MIN_LR, EPOCHS, ITERS = 1e-4, 3e-5, 25, 7
EPOCH_CFG = dict(
    type='GLPDepthLR',
    eta_min=MIN_LR,
    power=0.9,
    by_epoch=True,
    begin=0,
    end=EPOCHS,
    convert_to_iter_based=True,
)


def glpdepth_lr(step, iters_per_epoch, epochs=EPOCHS, max_lr=MAX_LR, min_lr=MIN_LR):
    """GLPDepth train.py's lr at ``step``, written out independently of the scheduler."""
    half = (epochs // 2) * iters_per_epoch
    if step < half:
        return (max_lr - min_lr) * (step / half) ** 0.9 + min_lr
    return (min_lr - max_lr) * (step / half - 1) ** 0.9 + max_lr


def _curve(optimizer, scheduler, steps):
    """The lr of every parameter group at each of ``steps`` training iterations."""
    lrs = []
    for _ in range(steps):
        lrs.append([group['lr'] for group in optimizer.param_groups])
        optimizer.step()
        scheduler.step()
    return lrs


def _adam(*lrs):
    groups = [dict(params=[torch.nn.Parameter(torch.zeros(1))], lr=lr) for lr in lrs]
    return torch.optim.Adam(groups)


def test_epoch_config_gives_glpdepths_per_iteration_curve():
    init_default_scope('mmseg')
    opt = _adam(MAX_LR)
    sched = MMSEG_SCHEDULERS.build(EPOCH_CFG, default_args=dict(optimizer=opt, epoch_length=ITERS))
    assert isinstance(sched, GLPDepthLR) and not sched.by_epoch
    total, half = EPOCHS * ITERS, 12 * ITERS
    lrs = [lr for (lr,) in _curve(opt, sched, total)]
    assert lrs == pytest.approx([glpdepth_lr(t, ITERS) for t in range(total)], rel=1e-12)
    assert lrs[0] == pytest.approx(MIN_LR, rel=1e-12)
    assert lrs[half] == pytest.approx(MAX_LR, rel=1e-12)
    assert lrs[2 * half] == pytest.approx(MIN_LR, rel=1e-12)  # end of epoch 24
    # GLPDepth's 25th epoch continues the descent below min_lr.
    overrun = (total - 1) / half - 1
    assert lrs[-1] == pytest.approx(MAX_LR - (MAX_LR - MIN_LR) * overrun**0.9, rel=1e-12)
    assert lrs[-1] < MIN_LR
    up, down = lrs[: half + 1], lrs[half:]
    assert all(a < b for a, b in zip(up, up[1:]))
    assert all(a > b for a, b in zip(down, down[1:]))
    # Past ``end`` the scheduler leaves the lr alone.
    assert _curve(opt, sched, 3) == [[lrs[-1]]] * 3


def test_each_parameter_group_peaks_at_its_own_lr():
    opt = _adam(MAX_LR, 2 * MAX_LR)
    sched = GLPDepthLR(opt, eta_min=MIN_LR, turn=4, begin=0, end=9, by_epoch=False)
    curve = _curve(opt, sched, 9)
    assert curve[0] == pytest.approx([MIN_LR, MIN_LR], rel=1e-12)
    assert curve[4] == pytest.approx([MAX_LR, 2 * MAX_LR], rel=1e-12)
    assert curve[8] == pytest.approx([MIN_LR, MIN_LR], rel=1e-12)
    # A quarter of the way: min + (max - min) * 0.5 ** 0.9 for each group's own max.
    assert curve[2][1] == pytest.approx(MIN_LR + (2 * MAX_LR - MIN_LR) * 0.5**0.9, rel=1e-12)


def test_glpn_nyu_config_builds_the_schedule():
    cfg = Config.fromfile(osp.join(ROOT, 'configs/glpn/glpn_pvtv2-b2_4xb3-25e_nyu-448x576.py'))
    (sched_cfg,) = cfg.param_scheduler
    init_default_scope(cfg.default_scope)
    wrapper = build_optim_wrapper(torch.nn.Linear(2, 1), cfg.optim_wrapper)
    sched = PARAM_SCHEDULERS.build(sched_cfg, default_args=dict(optimizer=wrapper, epoch_length=5))
    assert isinstance(sched, GLPDepthLR)
    max_epochs = cfg.train_cfg.max_epochs
    assert (sched.begin, sched.end, sched.turn) == (0, max_epochs * 5, (max_epochs // 2) * 5)
    lrs = [lr for (lr,) in _curve(wrapper, sched, max_epochs * 5)]
    expected = [glpdepth_lr(t, 5, epochs=max_epochs) for t in range(max_epochs * 5)]
    assert lrs == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    'kwargs, match',
    [
        (dict(eta_min=2e-4), 'eta_min 0.0002 exceeds the lr 0.0001 of parameter group 0'),
        (dict(eta_min=-1e-6), 'eta_min must be a number >= 0'),
        (dict(eta_min=MIN_LR, power=0), 'power must be a finite number > 0'),
        (dict(eta_min=MIN_LR, end=float('inf')), '`end` must be set'),
        (dict(eta_min=MIN_LR, turn=25), r'turn must be an int step in \(0, end - begin = 25\)'),
        (dict(eta_min=MIN_LR, end=1), 'at least 2 epochs'),
        (dict(eta_min=MIN_LR, turn=1), 'falls to .* <= 0 before the end'),
    ],
)
def test_bad_arguments_are_named(kwargs, match):
    kwargs = dict(dict(begin=0, end=25), **kwargs)
    with pytest.raises(ConfigError, match=match):
        GLPDepthLR(_adam(MAX_LR), **kwargs)


def test_conversion_needs_an_epoch_length():
    with pytest.raises(ConfigError, match='epoch_length must be a positive int'):
        GLPDepthLR.build_iter_from_epoch(_adam(MAX_LR), eta_min=MIN_LR, end=25, epoch_length=0)
