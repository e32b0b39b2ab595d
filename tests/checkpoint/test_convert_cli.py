"""The checkpoint converter CLI on an HF checkpoint saved the way HF saves it."""

import subprocess
import sys

import pytest
import torch
from transformers import PvtV2Config, PvtV2ForImageClassification

from pvtv2_dense.checkpoint import read_state_dict
from pvtv2_dense.models import PVTv2
from tests.helpers.common import ROOT, TINY_ARCH

CLI = [sys.executable, f'{ROOT}/tools/model_converters/convert_pvtv2.py']


@pytest.mark.slow
def test_hf_safetensors_to_ours_and_official(tmp_path):
    torch.manual_seed(0)
    hf = PvtV2ForImageClassification(PvtV2Config(**TINY_ARCH, num_labels=5)).eval()
    hf.save_pretrained(tmp_path / 'hf')
    src = tmp_path / 'hf' / 'model.safetensors'
    ours_path, official_path = tmp_path / 'ours.pth', tmp_path / 'official.pth'

    run = subprocess.run([*CLI, str(src), str(ours_path)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert 'hf_pvt_v2 format, depths 1,1,1,1, hidden sizes 8,16,32,32' in run.stdout
    model = PVTv2(dict(TINY_ARCH), init_cfg=dict(type='Pretrained', checkpoint=str(ours_path)))
    model.init_weights()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        ref = hf.pvt_v2(x).last_hidden_state
        torch.testing.assert_close(model.eval()(x)[-1], ref, atol=1e-5, rtol=0)

    run = subprocess.run(
        [*CLI, str(ours_path), str(official_path), '--to', 'official'],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    assert 'block1.0.attn.kv.weight' in read_state_dict(str(official_path))

    # An existing output is never overwritten silently.
    before = official_path.read_bytes()
    run = subprocess.run([*CLI, str(ours_path), str(official_path)], capture_output=True, text=True)
    assert run.returncode != 0 and 'exists' in run.stderr
    assert official_path.read_bytes() == before


def test_unknown_checkpoint_is_a_clear_error(tmp_path):
    bad = tmp_path / 'resnet.pth'
    torch.save({'conv1.weight': torch.zeros(1), 'fc.bias': torch.zeros(1)}, bad)
    run = subprocess.run(
        [*CLI, str(bad), str(tmp_path / 'out.pth')], capture_output=True, text=True
    )
    assert run.returncode != 0
    assert f'error: {bad}: not a PVTv2 checkpoint' in run.stderr
    assert 'conv1.weight' in run.stderr
