"""ONNX export of the Deformable DETR family with its post-processing: the list-of-sizes
deformable attention equals mmcv's, and the exported graphs (plain, refine, two-stage; static
and dynamic) answer in ONNX Runtime what mmdet's own ``predict`` answers."""

import subprocess
import sys

import numpy as np
import pytest
import torch
from mmengine.config import Config

from pvtv2_dense.deploy.msda import swap_msda
from pvtv2_dense.deploy.onnx import export_onnx, run_onnx, verify_onnx
from pvtv2_dense.deploy.onnx_det import match_detections, reference_detections
from pvtv2_dense.deploy.plain import build_plain_model
from pvtv2_dense.errors import ExportError
from tests.helpers.common import ROOT
from tests.helpers.deploy import write_task

TOOL = [sys.executable, f'{ROOT}/tools/deployment/export_onnx.py']
VARIANTS = {
    'plain': {'model.with_box_refine': False},
    'refine': {},
    # mmdet embeds two-stage proposals with 4 x 128 features: 256 dims.
    'two-stage': {
        'model.as_two_stage': True,
        'model.neck.out_channels': 256,
        'model.positional_encoding.num_feats': 128,
        'model.bbox_head.embed_dims': 256,
        **{
            f'model.{part}.layer_cfg.{layer}.embed_dims': 256
            for part, layers in (
                ('encoder', ('self_attn_cfg', 'ffn_cfg')),
                ('decoder', ('self_attn_cfg', 'cross_attn_cfg', 'ffn_cfg')),
            )
            for layer in layers
        },
    },
}


def _model(tmp_path, variant):
    config, checkpoint = write_task(tmp_path, 'deformable_detr', options=VARIANTS[variant])
    return build_plain_model(Config.fromfile(config), checkpoint, config)


def test_list_of_sizes_attention_equals_mmcv():
    from mmcv.ops import MultiScaleDeformableAttention

    torch.manual_seed(0)
    opts = dict(num_heads=4, num_levels=2, num_points=3, batch_first=True)
    attn = MultiScaleDeformableAttention(32, **opts).eval()
    shapes = [(6, 7), (3, 4)]
    value = torch.randn(2, sum(h * w for h, w in shapes), 32)
    query = torch.randn(2, 5, 32)
    tensor_shapes = torch.tensor(shapes)
    start = torch.tensor([0, 42])
    for ref in (torch.rand(2, 5, 2, 2), torch.rand(2, 5, 2, 4) * 0.5 + 0.25):
        with torch.no_grad():
            want = attn(
                query,
                value=value,
                reference_points=ref,
                spatial_shapes=tensor_shapes,
                level_start_index=start,
            )
            swapped = MultiScaleDeformableAttention(32, **opts).eval()
            swapped.load_state_dict(attn.state_dict())
            assert swap_msda(swapped) == 1
            got = swapped(query, value=value, reference_points=ref, spatial_shapes=shapes)
        torch.testing.assert_close(got, want, atol=1e-5, rtol=0)


def test_detections_are_matched_and_a_wrong_label_is_caught():
    boxes = np.array([[0, 0, 10, 10], [5, 5, 20, 20]], np.float32)
    want = (boxes, np.array([0.9, 0.5], np.float32), np.array([1, 2]))
    swapped = (boxes[::-1], want[1][::-1], want[2][::-1])  # order differs: same detections
    assert match_detections(swapped, want, (64, 64), 1e-4) == (0.0, 0.0)
    wrong = (boxes, want[1], np.array([0, 2]))
    with pytest.raises(ExportError, match='label 0, score 0.9000'):
        match_detections(wrong, want, (64, 64), 1e-4)


@pytest.mark.slow  # an export takes 40 s (static) to 2 min (dynamic) on a shared 2-core box
@pytest.mark.parametrize(
    'variant, dynamic', [('plain', False), ('refine', True), ('two-stage', True)]
)
def test_graphs_match_mmdet_predict(variant, dynamic, tmp_path):
    model = _model(tmp_path, variant)
    out = str(tmp_path / 'det.onnx')
    info = export_onnx(model, out, (64, 96), dynamic=dynamic)
    assert info['outputs'] == ('boxes', 'scores', 'labels')
    k = model.bbox_head.test_cfg['max_per_img']
    x = np.random.default_rng(0).standard_normal((1, 3, 64, 96)).astype('f4')
    boxes, scores, labels = run_onnx(out, x, all_outputs=True)
    assert boxes.shape == (1, k, 4) and scores.shape == labels.shape == (1, k)
    # The reference is not trivially matched: its scores spread.
    ref = reference_detections(model, torch.from_numpy(x))[0]
    assert np.ptp(ref[1]) > 1e-3
    sizes = [(1, 64, 96), (2, 80, 72)] if dynamic else [(1, 64, 96)]
    results = verify_onnx(out, model, sizes, tolerance=1e-4)
    assert [s for s, _ in results] == [(b, 3, h, w) for b, h, w in sizes]


@pytest.mark.slow
def test_tool_exports_and_verifies_a_detector(tmp_path):
    config, checkpoint = write_task(tmp_path, 'deformable_detr')
    out = tmp_path / 'det.onnx'
    args = [config, checkpoint, '--out', str(out), '--shape', '64', '96', '--verify']
    run = subprocess.run([*TOOL, *args], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert '-> boxes, scores, labels' in run.stdout and 'verified (1, 3, 64, 96)' in run.stdout
