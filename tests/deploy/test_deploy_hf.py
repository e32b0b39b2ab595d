"""Export to HF transformers: every task loads with from_pretrained and answers what ours
answers, a round trip gives the same weights, and what HF cannot express is refused in one line."""

import subprocess
import sys

import pytest
import torch

from pvtv2_dense.checkpoint.hf_segformer import segformer_to_pvtv2_dense
from pvtv2_dense.cli import load_config
from pvtv2_dense.deploy.hf import compare, export_hf, invert_converter, to_hf
from pvtv2_dense.deploy.plain import build_plain_model
from pvtv2_dense.errors import ExportError
from tests.helpers.common import ROOT, TINY_ARCH
from tests.helpers.deploy import write_task

TOOL = [sys.executable, f'{ROOT}/tools/model_converters/export_hf.py']
# The eps each HF model has in every LayerNorm: the model is trained with it to be exported.
EPS = {
    'segformer': {'model.backbone.arch.layer_norm_eps': 1e-5},
    'glpn': {'model.backbone.arch.layer_norm_eps': 1e-5},
    'classifier': {'model.backbone.arch.layer_norm_eps': 1e-6},
}


def _model(tmp_path, task, options=None):
    config, checkpoint = write_task(tmp_path, task)
    cfg = load_config(config, EPS.get(task) if options is None else options)
    return build_plain_model(cfg, checkpoint, config)


@pytest.mark.parametrize(
    'task, hf_class',
    [
        ('segformer', 'SegformerForSemanticSegmentation'),
        ('glpn', 'GLPNForDepthEstimation'),
        ('classifier', 'PvtV2ForImageClassification'),
    ],
)
def test_folder_loads_and_matches_ours(task, hf_class, tmp_path):
    import transformers

    model = _model(tmp_path, task)
    out = tmp_path / 'hf'
    info = export_hf(model, str(out))
    assert info['hf_class'] == hf_class and info['unused'] == []
    files = ['config.json', 'model.safetensors', 'preprocessor_config.json']
    if task == 'classifier':  # its config has no test pipeline to reproduce
        assert info['processor'] is None and 'no test pipeline' in info['processor_notes'][0]
        files.remove('preprocessor_config.json')
    assert sorted(p.name for p in out.iterdir()) == files
    # The processor of the config's test pipeline, with our ImageNet mean/std.
    if task != 'classifier':
        processor = transformers.AutoImageProcessor.from_pretrained(str(out))
        assert processor.do_normalize
        assert processor.image_mean == pytest.approx([0.485, 0.456, 0.406])
        assert info['processor'] == type(processor).__name__
    loaded = getattr(transformers, hf_class).from_pretrained(str(out)).eval()
    assert compare(model, loaded) <= 1e-5
    # The weights are ours, not HF's init: a fresh HF model of the same config differs.
    fresh = getattr(transformers, hf_class)(loaded.config).eval()
    assert compare(model, fresh) > 1e-3
    if task == 'segformer':
        # ADE20K's label names, from the config's dataset.
        assert loaded.config.id2label[0] == 'wall' and len(loaded.config.id2label) == 150
    if task == 'glpn':
        assert loaded.config.max_depth == model.decode_head.max_depth


def test_round_trip_hf_ours_hf_keeps_every_weight():
    from transformers import SegformerConfig, SegformerForSemanticSegmentation

    config = SegformerConfig(
        hidden_sizes=TINY_ARCH['hidden_sizes'],
        depths=TINY_ARCH['depths'],
        num_attention_heads=TINY_ARCH['num_attention_heads'],
        decoder_hidden_size=16,
        num_labels=3,
    )
    torch.manual_seed(0)
    hf = SegformerForSemanticSegmentation(config)
    hf_sd = hf.state_dict()
    ours = segformer_to_pvtv2_dense(hf_sd)[0]
    back, unused = invert_converter(lambda sd: segformer_to_pvtv2_dense(sd)[0], hf, ours)
    assert unused == [] and back.keys() == hf_sd.keys()
    for key, value in hf_sd.items():
        assert torch.equal(back[key], value), key


@pytest.mark.parametrize('task', ['segformer', 'glpn', 'classifier'])
def test_round_trip_ours_hf_ours_keeps_every_weight(task, tmp_path):
    from pvtv2_dense.deploy.hf import hf_target

    model = _model(tmp_path, task)
    hf, _ = to_hf(model)
    _, to_ours = hf_target(model)
    again = to_ours(hf.state_dict())
    ours = model.state_dict()
    # Every tensor comes back (batch-norm step counters where HF keeps them too).
    assert set(again) <= set(ours)
    assert {k for k in ours if not k.endswith('num_batches_tracked')} <= set(again)
    for key, value in again.items():
        assert torch.equal(value, ours[key]), key


@pytest.mark.parametrize(
    'task, options, message',
    [
        (
            'segformer',
            {},
            "transformers' SegformerConfig has one LayerNorm eps (1e-05) in every norm and the "
            'model uses the official PVTv2 mix',
        ),
        (
            'segformer',
            {'model.backbone.arch.layer_norm_eps': 1e-6},
            "transformers' SegformerConfig has one LayerNorm eps (1e-05) in every norm and the "
            'model uses layer_norm_eps=1e-06',
        ),
        ('classifier', {}, "transformers' PvtV2Config has one LayerNorm eps (1e-06)"),
    ],
)
def test_an_eps_hf_cannot_express_is_refused_when_exact(task, options, message, tmp_path):
    model = _model(tmp_path, task, options)
    with pytest.raises(ExportError) as err:
        export_hf(model, str(tmp_path / 'hf'), exact=True)
    assert str(err.value).startswith(message) and '\n' not in str(err.value)
    assert '--exact' in str(err.value)
    assert not (tmp_path / 'hf').exists()


@pytest.mark.parametrize('task', ['segformer', 'glpn', 'classifier'])
def test_the_official_eps_mix_exports_with_its_measured_difference(task, tmp_path):
    """Every shipped config has the official mix: the export takes HF's one eps and measures."""
    model = _model(tmp_path, task, {})
    assert model.backbone.arch['layer_norm_eps'] is None
    info = export_hf(model, str(tmp_path / 'hf'))
    assert 0 < info['max_diff'] <= 1e-3  # the eps matters, and only a little
    assert 'LayerNorm eps: the HF model has' in info['eps_note']
    hf, _ = to_hf(model)
    assert compare(model, hf) == pytest.approx(info['max_diff'], rel=0.5)


def test_an_eps_difference_above_the_tolerance_is_refused(tmp_path, monkeypatch):
    import pvtv2_dense.deploy.hf as hf

    model = _model(tmp_path, 'segformer', {})
    monkeypatch.setattr(hf, 'EPS_TOLERANCE', 1e-9)
    with pytest.raises(ExportError, match='with its one LayerNorm eps differs from ours by'):
        export_hf(model, str(tmp_path / 'hf'), tolerance=1e-9)
    assert not (tmp_path / 'hf').exists()


def test_linear_sra_is_refused(tmp_path):
    model = _model(tmp_path, 'segformer_linear_sra', {'model.backbone.arch.layer_norm_eps': 1e-5})
    with pytest.raises(ExportError) as err:
        export_hf(model, str(tmp_path / 'hf'))
    want = "transformers' SegformerConfig has no linear SRA (linear_attention=True) counterpart"
    assert str(err.value) == want


@pytest.mark.slow
def test_tool_writes_folder_and_never_overwrites(tmp_path):
    from transformers import SegformerForSemanticSegmentation

    config, checkpoint = write_task(tmp_path, 'segformer')
    out = tmp_path / 'hf'
    eps = 'model.backbone.arch.layer_norm_eps=1e-5'
    args = [config, checkpoint, str(out), '--cfg-options', eps]
    run = subprocess.run([*TOOL, *args], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert f'wrote {out}: SegformerForSemanticSegmentation' in run.stdout
    assert 'image processor: MobileNetV2ImageProcessor' in run.stdout
    assert 'note: Resize(scale=(2048, 512), keep_ratio=True)' in run.stdout
    SegformerForSemanticSegmentation.from_pretrained(str(out))
    before = (out / 'model.safetensors').read_bytes()
    run = subprocess.run([*TOOL, *args], capture_output=True, text=True)
    assert run.returncode == 2
    assert run.stderr.strip().splitlines()[-1].startswith(f'error: OUT_DIR {out} is a folder')
    assert (out / 'model.safetensors').read_bytes() == before


@pytest.mark.slow
def test_tool_refuses_a_deformable_detr_hf_cannot_express_in_one_line(tmp_path):
    # The quickstart's slim neck has GroupNorm(16); HF's input projection always 32 groups.
    config, checkpoint = write_task(tmp_path, 'deformable_detr')
    out = tmp_path / 'hf'
    run = subprocess.run([*TOOL, config, checkpoint, str(out)], capture_output=True, text=True)
    assert run.returncode == 2, run.stderr
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("error: transformers' DeformableDetrForObjectDetection has GroupNorm(32")
    assert 'Traceback' not in run.stderr and not out.exists()
