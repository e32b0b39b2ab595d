"""The documented runtime options of docs/evaluation.md on a tiny segmentation run: mmengine's
EMAHook (the checkpoint and validation use the averaged weights, which differ from the raw
ones) and the TensorBoard visualizer backend (event files are written)."""

import glob
import os.path as osp

import pytest
import torch
from mmengine.hooks import Hook
from mmengine.runner import Runner

from pvtv2_dense.checkpoint import read_checkpoint
from tests.helpers.common import tiny_seg_cfg

EMA_HOOK = dict(type='EMAHook', ema_type='ExponentialMovingAverage', momentum=0.5)
TENSORBOARD = [dict(type='LocalVisBackend'), dict(type='TensorboardVisBackend')]
_PARAM = 'decode_head.conv_seg.weight'


class _WeightsSeenByValidation(Hook):
    """Copies a weight as the validation loop starts (after EMAHook swapped its weights in)."""

    priority = 'LOW'

    def __init__(self):
        self.seen = None

    def before_val_epoch(self, runner):
        self.seen = runner.model.state_dict()[_PARAM].clone()


@pytest.mark.slow  # trains 4 iterations of the tiny model and validates once (about 15 s)
def test_ema_weights_are_saved_and_evaluated_and_tensorboard_logs(ade_root, tmp_path):
    pytest.importorskip('tensorboard')
    cfg = tiny_seg_cfg(ade_root, tmp_path, max_iters=4)
    cfg.custom_hooks = [EMA_HOOK]
    cfg.visualizer.vis_backends = TENSORBOARD
    cfg.train_cfg.val_interval = 4
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', by_epoch=False, interval=4)
    runner = Runner.from_cfg(cfg)
    spy = _WeightsSeenByValidation()
    runner.register_hook(spy)
    runner.train()
    ckpt = read_checkpoint(osp.join(tmp_path, 'iter_4.pth'))
    ema = ckpt['state_dict'][_PARAM]  # mmengine saves the averaged weights as the model's
    raw = ckpt['ema_state_dict']['module.' + _PARAM]  # and the raw ones beside them
    assert not torch.allclose(ema, raw)
    assert spy.seen is not None and torch.equal(spy.seen, ema)
    events = glob.glob(osp.join(tmp_path, '*', 'vis_data', 'events.out.tfevents.*'))
    assert events and osp.getsize(events[0]) > 0
