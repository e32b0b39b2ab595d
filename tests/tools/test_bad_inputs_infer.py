"""``tools/infer.py`` rows of the bad-input matrix (issues 33 and 36): out-of-domain options,
images it cannot process, a pixel bomb, outputs it must not write over, and classification.

Each row runs the tool as a script on the shared workspace (``tests/helpers/bad_input_workspace``)
plus a few files of its own; it must exit with the given status, end stderr with one ``error:``
line holding the expected texts, change no file that existed, and leave the paths in ``absent``
absent (no empty output folder).
"""

import os
import os.path as osp
import shutil
import struct
import zlib
from dataclasses import dataclass

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import MODELS, init_default_scope

from tests.helpers.bad_input_workspace import build_workspace, run_tool
from tests.helpers.common import ROOT, TINY_ARCH, tree_digest

CLS_QS = osp.join(ROOT, 'configs/quickstart/pvtv2-b0_1xb32-12e_synthetic-in1k-64x64.py')


def _png_bomb(path, side=20000):
    """A valid 1-bit PNG of side x side pixels, ~400 KB, 1.2 GB once decoded to BGR."""

    def chunk(kind, data):
        return (
            struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data))
        )

    packer = zlib.compressobj(9)
    row = b'\x00' * (1 + (side + 7) // 8)
    data = b''.join(packer.compress(row) for _ in range(side)) + packer.flush()
    with open(path, 'wb') as f:
        f.write(
            b'\x89PNG\r\n\x1a\n'
            + chunk(b'IHDR', struct.pack('>IIBBBBB', side, side, 1, 0, 0, 0, 0))
        )
        f.write(chunk(b'IDAT', data) + chunk(b'IEND', b''))


@pytest.fixture(scope='module')
def ws(tmp_path_factory):
    w = build_workspace(str(tmp_path_factory.mktemp('bad_inputs_infer')))
    p = w['p']
    os.makedirs(p('infer_in'))
    rng = np.random.default_rng(0)
    cv2.imwrite(p('infer_in', 'good.png'), rng.integers(0, 255, (40, 60, 3), np.uint8))
    cv2.imwrite(p('infer_in', 'one_pixel.png'), np.zeros((1, 1, 3), np.uint8))
    cv2.imwrite(p('infer_in', 'strip.png'), np.zeros((20, 10000, 3), np.uint8))
    _png_bomb(p('bomb.png'))
    os.makedirs(p('earlier_out', 'vis'))
    shutil.copy(p('infer_in', 'good.png'), p('earlier_out', 'vis', 'good.png'))
    cls_cfg = p('cls.py')
    with open(cls_cfg, 'w') as f:
        f.write(
            f'_base_ = [{CLS_QS!r}]\n'
            f'model = dict(backbone=dict(arch=dict(_delete_=True, **{TINY_ARCH!r})))\n'
        )
    cfg = Config.fromfile(cls_cfg)
    init_default_scope(cfg.default_scope)
    torch.manual_seed(0)
    torch.save(dict(state_dict=MODELS.build(cfg.model).state_dict(), meta={}), p('cls.pth'))
    return w


@dataclass
class Case:
    """``tools/infer.py ARGS``: exit ``status``; the error line holds ``expect``."""

    id: str
    args: object
    expect: tuple = ()
    status: int = 2
    absent: tuple = ()  # paths (under the workspace) that must not exist afterwards
    present: tuple = ()  # outputs that must exist afterwards


def infer(*inputs, config='seg.py', ckpt='good.pth', out=('runs', 'infer'), extra=()):
    return lambda w: [
        *[w['p'](i) for i in inputs],
        '--config',
        w['p'](config),
        '--checkpoint',
        w['p'](ckpt),
        '--out-dir',
        w['p'](*out),
        *extra,
    ]


# fmt: off
CASES = [
    Case('infer-opacity-nan', infer('infer_in/good.png', extra=['--opacity', 'nan']),
         ('--opacity nan', 'expected a number in [0, 1]'), absent=('runs',)),
    Case('infer-score-thr-out-of-range', infer('infer_in/good.png', extra=['--score-thr', '2']),
         ('--score-thr 2', '[0, 1]'), absent=('runs',)),
    Case('infer-max-frames-negative', infer('infer_in/good.png', extra=['--max-frames', '-3']),
         ('--max-frames -3', 'expected 0 (no limit) or more'), absent=('runs',)),
    Case('infer-pixel-bomb', infer('bomb.png'),
         ('bomb.png', '20000x20000', 'over the limit of 120 MP', '--max-pixels'),
         absent=('runs/infer',)),
    Case('infer-one-pixel-and-strip-go-on', infer('infer_in'),
         ('2 of 3 input(s) skipped', 'one_pixel.png', 'the others are in'),
         present=('runs/infer/vis/good.png',)),
    Case('infer-output-exists', infer('infer_in/good.png', out=('earlier_out',)),
         ('earlier_out/vis/good.png already exists', '--overwrite')),
    Case('infer-out-dir-is-a-file', infer('infer_in/good.png', out=('earlier.pkl',)),
         ('--out-dir', 'earlier.pkl is a file; expected a folder')),
    Case('infer-onnx-missing', lambda w: [w['p']('infer_in/good.png'), '--config', w['p']('seg.py'),
                                          '--onnx', w['p']('nope.onnx'), '--out-dir',
                                          w['p']('runs', 'infer')],
         ('nope.onnx does not exist',), absent=('runs/infer',)),
    Case('infer-classification', infer('infer_in/good.png', config='cls.py', ckpt='cls.pth',
                                       extra=['--save-raw']),
         status=0, present=('runs/infer/vis/good.png', 'runs/infer/pred/good.json')),
]
# fmt: on


@pytest.mark.slow  # the shared workspace costs ~12 s; each row runs the tool (~1 s)
@pytest.mark.parametrize('case', [pytest.param(c, id=c.id) for c in CASES])
def test_bad_input(case, ws):
    p = ws['p']
    if osp.isdir(p('runs')):
        shutil.rmtree(p('runs'))
    before = tree_digest(ws['t'])
    status, _, err = run_tool('infer.py', case.args(ws), cwd=ws['t'])
    lines = [line for line in err.splitlines() if line.strip()]
    print(f'MATRIX|{case.id}|{status}|{lines[-1] if lines and status else ""}')
    assert status == case.status, f'{case.id}: exit {status}\n{err[-3000:]}'
    assert 'Traceback' not in err, err[-3000:]
    if case.status == 2:
        assert lines and lines[-1].startswith('error: '), err[-2000:]
        assert sum(line.startswith('error: ') for line in lines) == 1, lines
        for text in case.expect:
            assert text in lines[-1], lines[-1]
    for path in case.absent:
        assert not osp.exists(p(path)), f'{path} was left behind'
    for path in case.present:
        assert osp.isfile(p(path)), f'{path} was not written'
    if osp.isdir(p('runs')):
        shutil.rmtree(p('runs'))
    assert tree_digest(ws['t']) == before, f'{case.id} changed files that existed before'
