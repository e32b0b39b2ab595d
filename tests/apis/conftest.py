"""Tiny models with random weights (quickstart pipelines, a few channels) and short videos, for
the tests of ``pvtv2_dense.apis.infer``."""

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import MODELS, init_default_scope

from tests.helpers.common import ROOT, TINY_ARCH

QUICKSTART = {
    'seg': 'configs/quickstart/segformer_pvtv2-b0_1xb8-600iter_synthetic-ade-64x64.py',
    'depth': 'configs/quickstart/glpn_pvtv2-b0_1xb8-1000iter_synthetic-nyu-64x64.py',
    'cls': 'configs/quickstart/pvtv2-b0_1xb32-12e_synthetic-in1k-64x64.py',
}
HEAD = {
    'seg': f'decode_head=dict(in_channels={TINY_ARCH["hidden_sizes"]!r}, channels=16), ',
    'depth': f'decode_head=dict(in_channels={TINY_ARCH["hidden_sizes"]!r}, channels=16), ',
    'cls': '',
}


def write_video(path, count=6, size=(64, 48), fourcc='mp4v', fps=10):
    """A short video of moving noise and a bright square, written with OpenCV."""
    rng = np.random.default_rng(0)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, size)
    assert writer.isOpened(), path
    for i in range(count):
        frame = rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
        frame[10:30, 4 * i : 4 * i + 20] = 255
        writer.write(frame)
    writer.release()
    return str(path)


@pytest.fixture(scope='session')
def tiny(tmp_path_factory):
    """``{task: (config path, checkpoint path)}`` for 'seg', 'depth' and 'cls'."""
    folder = tmp_path_factory.mktemp('tiny_models')
    out = {}
    for task, base in QUICKSTART.items():
        config = folder / f'{task}.py'
        config.write_text(
            f'_base_ = [{f"{ROOT}/{base}"!r}]\n'
            f'model = dict({HEAD[task]}'
            f'backbone=dict(arch=dict(_delete_=True, **{TINY_ARCH!r})))\n'
        )
        cfg = Config.fromfile(str(config))
        init_default_scope(cfg.default_scope)
        torch.manual_seed(0)
        model = MODELS.build(cfg.model)
        ckpt = folder / f'{task}.pth'
        torch.save(dict(state_dict=model.state_dict(), meta={}), ckpt)
        out[task] = (str(config), str(ckpt))
    return out


@pytest.fixture(scope='session')
def clip(tmp_path_factory):
    """A 6-frame 64x48 mp4 video."""
    return write_video(tmp_path_factory.mktemp('video') / 'clip.mp4')
