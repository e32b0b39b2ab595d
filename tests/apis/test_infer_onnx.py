"""The ONNX Runtime backend of ``tools/infer.py`` against the PyTorch one on the same frames
(issue 36 item 4), and its refusals."""

import numpy as np
import pytest
import torch
from mmengine.config import Config

from pvtv2_dense.apis.infer import InferOptions, OnnxPredictor, TorchPredictor, run_infer
from pvtv2_dense.apis.inference import build_model, build_test_pipeline
from pvtv2_dense.deploy.onnx import export_onnx
from pvtv2_dense.deploy.plain import build_plain_model
from pvtv2_dense.errors import InputError

pytest.importorskip('onnxruntime')


def export(config, ckpt, out, shape):
    model = build_plain_model(Config.fromfile(config), ckpt, config)
    export_onnx(model, str(out), shape)
    return str(out)


@pytest.fixture(scope='module')
def exported(tiny, tmp_path_factory):
    folder = tmp_path_factory.mktemp('onnx')
    # Static graphs at the size the test pipelines make of a 48x64 frame: the segmentation
    # pipeline keeps it (longer side 64, no padding at test time), the classifier's crops 64x64.
    return {
        task: export(*tiny[task], folder / f'{task}.onnx', shape)
        for task, shape in (('seg', (48, 64)), ('cls', (64, 64)))
    }


def frames(count=3, size=(48, 64)):
    rng = np.random.default_rng(1)
    return [rng.integers(0, 255, (*size, 3), np.uint8) for _ in range(count)]


@pytest.mark.slow  # exports two models (~30 s on a loaded machine)
@pytest.mark.parametrize('task', ['seg', 'cls'])
def test_onnx_backend_answers_what_pytorch_answers(task, tiny, exported):
    config, ckpt = tiny[task]
    cfg = Config.fromfile(config)
    pipeline = build_test_pipeline(cfg)
    torch_side = TorchPredictor(build_model(cfg, ckpt, 'cpu', config), pipeline)
    onnx_side = OnnxPredictor(build_model(cfg, None, 'cpu', config), pipeline, exported[task])
    for frame in frames():
        want = torch_side.infer(torch_side.preprocess(frame))
        got = onnx_side.infer(onnx_side.preprocess(frame))
        if task == 'seg':
            a, b = want.pred_sem_seg.data, got.pred_sem_seg.data
            assert a.shape == b.shape == (1, *frame.shape[:2])
            assert (a == b).float().mean() > 0.999
            torch.testing.assert_close(got.seg_logits.data, want.seg_logits.data, atol=1e-3, rtol=0)
        else:
            assert int(got.pred_label) == int(want.pred_label)
            torch.testing.assert_close(got.pred_score, want.pred_score, atol=1e-4, rtol=0)


@pytest.mark.slow
def test_onnx_backend_on_a_video(tiny, exported, clip, tmp_path):
    config, _ = tiny['seg']
    options = InferOptions(
        inputs=(clip,), config=config, onnx=exported['seg'], out_dir=str(tmp_path / 'out')
    )
    result = run_infer(Config.fromfile(config), options)
    clock = result['fps'][clip]
    assert clock.frames == 6 and clock.totals['model'] > 0


@pytest.mark.slow
def test_onnx_refusals(tiny, exported, tmp_path):
    config, _ = tiny['seg']
    model = build_model(Config.fromfile(config), None, 'cpu', config)
    pipeline = build_test_pipeline(Config.fromfile(config))
    junk = tmp_path / 'junk.onnx'
    junk.write_bytes(b'junk')
    with pytest.raises(InputError, match='junk.onnx is not a readable ONNX model'):
        OnnxPredictor(model, pipeline, str(junk))
    seg = OnnxPredictor(model, pipeline, exported['seg'])
    with pytest.raises(InputError, match='makes a 64x64 input; .* static 48x64 graph'):
        seg.infer(seg.preprocess(frames(1, (64, 64))[0]))
    with pytest.raises(InputError, match='nope.onnx does not exist'):
        OnnxPredictor(model, pipeline, str(tmp_path / 'nope.onnx'))
    # The classifier's graph behind the segmentation config: wrong channel count, named.
    other = OnnxPredictor(model, pipeline, exported['cls'])
    with pytest.raises(InputError, match='outputs 10 channels; the config.s model has 150'):
        other.infer(other.preprocess(frames(1, (64, 64))[0]))
