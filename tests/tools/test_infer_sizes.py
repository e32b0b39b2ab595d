"""tools/infer.py on the quickstart models at sizes and aspect ratios far from the training crop.

The quickstart test pipelines resize the longer side to 64, so a 172x448 photo reaches the
backbone as 25x64 (a 7x16 first stage, smaller than its reduction ratio 8) and a 32x600 strip as
3x64: maps the official code cannot reduce. Every one gives a prediction at the input's size.
"""

import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import MODELS, init_default_scope
from PIL import Image

from tests.helpers.common import ROOT
from tests.helpers.tools import load_tool

# (height, width, mode): real-photo and extreme sizes down to 32 px, grayscale and RGBA too.
SIZES = [
    (172, 448, 'L'),
    (480, 640, 'RGB'),
    (32, 32, 'RGB'),
    (32, 600, 'RGB'),
    (600, 32, 'L'),
    (33, 47, 'RGBA'),
    (2000, 45, 'RGB'),
]
QUICKSTART = {
    'seg': 'configs/quickstart/segformer_pvtv2-b0_1xb8-600iter_synthetic-ade-64x64.py',
    'depth': 'configs/quickstart/glpn_pvtv2-b0_1xb8-1000iter_synthetic-nyu-64x64.py',
}


@pytest.fixture(scope='module')
def images(tmp_path_factory):
    folder = tmp_path_factory.mktemp('sizes')
    rng = np.random.default_rng(0)
    for h, w, mode in SIZES:
        channels = {'L': (), 'RGB': (3,), 'RGBA': (4,)}[mode]
        pixels = rng.integers(0, 255, (h, w, *channels), dtype=np.uint8)
        Image.fromarray(pixels, mode).save(folder / f'{h}x{w}.png')
    return folder


@pytest.mark.slow
@pytest.mark.parametrize('task', sorted(QUICKSTART))
def test_every_size_gets_a_prediction(task, images, tmp_path):
    config = osp.join(ROOT, QUICKSTART[task])
    cfg = Config.fromfile(config)
    init_default_scope('mmseg')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    ckpt = tmp_path / 'random.pth'
    torch.save(dict(state_dict=model.state_dict(), meta={}), ckpt)
    out = tmp_path / 'out'
    load_tool('tools/infer.py').main(
        [str(images), '--config', config, '--checkpoint', str(ckpt), '--out-dir', str(out)]
        + ['--save-raw', '--device', 'cpu']
    )
    for h, w, _ in SIZES:
        name = f'{h}x{w}'
        assert osp.isfile(out / 'vis' / f'{name}.png'), name
        if task == 'seg':
            pred = cv2.imread(str(out / 'pred' / f'{name}.png'), cv2.IMREAD_UNCHANGED)
        else:
            pred = np.load(out / 'pred' / f'{name}.npy')
        assert pred.shape[:2] == (h, w), name
        assert np.isfinite(pred).all()
