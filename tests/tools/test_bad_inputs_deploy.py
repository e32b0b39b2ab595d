"""The deploy tools on bad input (issues 33 and 36): each ends in one ``error:`` line naming the
culprit, exit 2, and leaves what the user made untouched."""

import os.path as osp

import pytest
import torch

from tests.helpers.bad_input_workspace import _Payload, run_tool
from tests.helpers.common import ROOT, tree_digest

DET_QS = 'configs/quickstart/deformable-detr-refine_pvtv2-b0_1xb8-600iter_synthetic-coco-64x64.py'
CONVERT = 'model_converters/convert_deformable_detr_hf.py'
EXPORT = 'deployment/export_onnx.py'


def _hf_detr_config(folder):
    from transformers import DeformableDetrConfig, PvtV2Config

    DeformableDetrConfig(
        use_timm_backbone=False,
        backbone=None,
        use_pretrained_backbone=False,
        backbone_config=PvtV2Config(
            hidden_sizes=[8, 16, 32, 32], depths=[1, 1, 1, 1], out_indices=[1, 2, 3]
        ),
        d_model=64,
        num_labels=3,
        with_box_refine=True,
    ).save_pretrained(folder)


def _last_line(err):
    lines = [line for line in err.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ''


def _assert_one_line(code, err, *texts):
    assert code == 2, err
    last = _last_line(err)
    assert last.startswith('error: '), err
    assert 'Traceback' not in err, err
    for text in texts:
        assert text in last, last


def test_convert_refuses_a_malicious_pytorch_model_bin(tmp_path):
    folder = tmp_path / 'hf'
    _hf_detr_config(folder)
    torch.save({'model.x': _Payload(str(tmp_path / 'pwned'))}, folder / 'pytorch_model.bin')
    args = [str(folder), osp.join(ROOT, DET_QS), str(tmp_path / 'o.pth')]
    code, _, err = run_tool(CONVERT, args, str(tmp_path))
    _assert_one_line(code, err, str(folder), 'cannot load its weights')
    assert not (tmp_path / 'pwned').exists() and not (tmp_path / 'o.pth').exists()


def test_convert_refuses_an_existing_output_before_reading(tmp_path):
    (tmp_path / 'o.pth').write_bytes(b'mine')
    args = [str(tmp_path / 'missing'), osp.join(ROOT, DET_QS), str(tmp_path / 'o.pth')]
    code, _, err = run_tool(CONVERT, args, str(tmp_path))
    _assert_one_line(code, err, 'o.pth', '--overwrite')
    assert (tmp_path / 'o.pth').read_bytes() == b'mine'


@pytest.mark.parametrize(
    'config, name',
    [
        ('configs/retinanet/retinanet_pvtv2-b0_fpn_1x_coco.py', 'RetinaNet'),
        ('configs/mask_rcnn/mask-rcnn_pvtv2-b0_fpn_1x_coco.py', 'MaskRCNN'),
        ('configs/atss/atss_pvtv2-b2_fpn_ms-crop-3x_coco.py', 'ATSS'),
        (
            'configs/panoptic_segformer/panoptic-segformer_pvtv2-b0_8xb1-12e_coco-panoptic.py',
            'PanopticSegFormer',
        ),
    ],
)
def test_export_refusal_names_the_model_it_refuses(config, name, tmp_path):
    """Refused from the config, before the checkpoint is read (it does not even exist)."""
    (tmp_path / 'earlier.txt').write_text('mine')
    before = tree_digest(str(tmp_path))
    args = [osp.join(ROOT, config), 'm.pth', '--out', 'm.onnx']
    code, _, err = run_tool(EXPORT, args, str(tmp_path))
    _assert_one_line(code, err, f'cannot export {name} to ONNX')
    assert 'DeformableDETR' not in err
    assert tree_digest(str(tmp_path)) == before
