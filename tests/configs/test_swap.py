"""Backbone swap configs (configs/swap) and the swap report tool (tools/swap_report.py).

tests/configs/test_configs.py already builds every swap config and runs it; here: the head /
neck input widths are the backbone's real output widths, the swap configs differ from their PVTv2
reference only in the backbone, and the report tool measures a swap set and writes its table and
plot.
"""

import functools
import glob
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope, init_default_scope

from pvtv2_dense.apis.report import read_metric
from pvtv2_dense.benchmark.swap_report import TASKS, find_work_dir, swap_set, task_of
from pvtv2_dense.errors import ConfigError
from tests.helpers.common import ROOT

SWAP = osp.join(ROOT, 'configs', 'swap')
CONFIGS = sorted(glob.glob(osp.join(SWAP, '*', '*.py')))
CONFIGS = [p for p in CONFIGS if '_base_' not in p.split(osp.sep)]
# The recipe each swap set copies; its own backbone is PVTv2-b2.
REFERENCES = {
    'segformer': 'configs/segformer/segformer_pvtv2-b2_8xb2-160k_ade20k-512x512.py',
    'glpn': 'configs/glpn/glpn_pvtv2-b2_4xb3-25e_nyu-448x576.py',
    'deformable_detr': 'configs/deformable_detr/deformable-detr_pvtv2-b2_16xb2-50e_coco.py',
    'panoptic_segformer': (
        'configs/panoptic_segformer/panoptic-segformer_pvtv2-b2_8xb1-24e_coco-panoptic.py'
    ),
    'mask_rcnn': 'configs/mask_rcnn/mask-rcnn_pvtv2-b2_fpn_1x_coco.py',
}
# Backbone field of the file name -> the class that must be built (from mmseg / mmdet by import).
SOURCES = {
    'pvtv2-b2': 'pvtv2_dense.models.backbones.pvt_v2.PVTv2',
    'mit-b2': 'mmseg.models.backbones.mit.MixVisionTransformer',
    'swin-t': {
        'mmseg': 'mmseg.models.backbones.swin.SwinTransformer',
        'mmdet': 'mmdet.models.backbones.swin.SwinTransformer',
    },
    'r50-v1c': 'mmseg.models.backbones.resnet.ResNetV1c',
    'r50': 'mmdet.models.backbones.resnet.ResNet',
}


def _rel(p):
    return osp.relpath(p, SWAP)


def _input_widths(cfg):
    consumer = cfg.model.neck if 'neck' in cfg.model else cfg.model.decode_head
    return list(consumer.in_channels)


def test_every_task_has_the_four_backbones():
    for task in REFERENCES:
        names = sorted(osp.basename(p).split('_')[1] for p in CONFIGS if f'/{task}/' in p)
        r50 = 'r50' if task in ('deformable_detr', 'panoptic_segformer', 'mask_rcnn') else 'r50-v1c'
        assert {'mit-b2', 'pvtv2-b2', 'swin-t', r50} <= set(names), task


def test_every_swap_folder_has_a_report_task():
    folders = {osp.basename(osp.dirname(p)) for p in CONFIGS}
    assert folders == {folder for folder, *_ in TASKS.values()}
    assert all(task_of(glob.glob(osp.join(SWAP, TASKS[t][0], '*.py'))) == t for t in TASKS)


@functools.cache
def _built_backbone(backbone_cfg: str, scope: str):
    """(class path, #params, output widths on 64x64) of one backbone; seg and depth share them."""
    init_default_scope(scope)
    with DefaultScope.overwrite_default_scope(scope):
        from mmengine.registry import MODELS

        backbone = MODELS.build(json.loads(backbone_cfg))
    backbone.eval()  # mmdet's ResNet.train() returns None, so no chaining
    with torch.no_grad():
        outs = backbone(torch.zeros(1, 3, 64, 64))
    source = f'{type(backbone).__module__}.{type(backbone).__name__}'
    return source, sum(p.numel() for p in backbone.parameters()), [o.shape[1] for o in outs]


@pytest.mark.parametrize('path', CONFIGS, ids=_rel)
def test_widths_are_the_backbone_outputs(path):
    cfg = Config.fromfile(path)
    scope = cfg.get('default_scope', 'mmseg')
    key = json.dumps(cfg.model.backbone.to_dict(), sort_keys=True)
    source, params, widths = _built_backbone(key, scope)
    name = osp.basename(path).split('_')[1]
    assert name in SOURCES, f'add the class of backbone {name} to SOURCES'
    expected = SOURCES[name][scope] if isinstance(SOURCES[name], dict) else SOURCES[name]
    assert source == expected
    assert 20e6 < params < 30e6  # the ~25 M size class
    assert _input_widths(cfg) == widths == list(cfg.backbone_widths)
    assert '_delete_' not in cfg.model.backbone


def _without_backbone(cfg_dict):
    d = dict(cfg_dict)
    for key in ('backbone', 'backbone_widths', 'checkpoint'):
        d.pop(key, None)
    model = dict(d.pop('model'))
    model.pop('backbone')
    for part in ('neck', 'decode_head'):
        if part in model:
            model[part] = {k: v for k, v in model[part].items() if k != 'in_channels'}
    d['model'] = model
    return d


@pytest.mark.parametrize('path', CONFIGS, ids=_rel)
def test_only_the_backbone_differs_from_the_reference(path):
    task = osp.basename(osp.dirname(path))
    ours = Config.fromfile(path).to_dict()
    ref = Config.fromfile(osp.join(ROOT, REFERENCES[task])).to_dict()
    assert _without_backbone(ours) == _without_backbone(ref)


@pytest.mark.slow
def test_report_on_the_segmentation_swap_set(tmp_path):
    # Two finished runs: one with tools/test.py's metrics file, one with only mmengine's scalars.
    runs = tmp_path / 'work_dirs'
    (runs / 'segformer_pvtv2-b2_8xb2-160k_ade20k-512x512').mkdir(parents=True)
    (runs / 'segformer_pvtv2-b2_8xb2-160k_ade20k-512x512' / 'test_metrics.json').write_text(
        json.dumps({'aAcc': 80.0, 'mIoU': 45.5})
    )
    vis = runs / 'segformer_r50-v1c_8xb2-160k_ade20k-512x512' / '20260101_000000' / 'vis_data'
    vis.mkdir(parents=True)
    lines = [{'loss': 1.0, 'step': 1}, {'mIoU': 30.0, 'step': 2}, {'mIoU': 37.25, 'step': 4}]
    (vis / 'scalars.json').write_text('\n'.join(json.dumps(r) for r in lines) + '\n')
    out = tmp_path / 'report'
    cmd = [sys.executable, osp.join(ROOT, 'tools', 'swap_report.py'), '--task', 'seg']
    cmd += ['--input-size', '64', '--warmup', '0', '--repeat', '1', '--device', 'cpu']
    cmd += ['--work-dirs', str(runs), '--out-dir', str(out)]
    env = dict(os.environ, PYTHONPATH=ROOT)
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]

    table = (out / 'swap_report.md').read_text()
    cells = [line.strip()[1:-1].split('|') for line in table.splitlines() if line.startswith('| ')]
    rows = {c[0].strip(): c[-1].strip() for c in cells}  # backbone -> last column
    assert sorted(rows) == ['Backbone', 'mit-b2', 'pvtv2-b2', 'r50-v1c', 'swin-t']
    assert rows['Backbone'] == 'mIoU'
    assert rows['pvtv2-b2'] == '45.5'
    assert rows['r50-v1c'] == '37.25'  # the last value in scalars.json
    assert rows['swin-t'] == rows['mit-b2'] == ''  # no run: an empty cell

    report = json.loads((out / 'swap_report.json').read_text())
    assert report['shape'] == [64, 64]
    by_name = {r['backbone']: r for r in report['rows']}
    for r in by_name.values():
        assert 20e6 < r['backbone_params'] < r['params']
        assert r['flops'] > 0 and r['devices']['cpu']['latency_ms'] > 0
    assert by_name['r50-v1c']['backbone_type'] == 'mmseg.ResNetV1c'

    png = (out / 'swap_report.png').read_bytes()
    assert png.startswith(b'\x89PNG') and len(png) > 1000


@pytest.fixture(scope='module')
def swap_report():
    sys.path.insert(0, osp.join(ROOT, 'tools'))
    try:
        import swap_report
    finally:
        sys.path.pop(0)
    return swap_report


def test_report_rejects_bad_arguments(swap_report, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        swap_report.main([str(tmp_path / 'nope.py'), '--out-dir', str(tmp_path / 'out')])
    assert exit_info.value.code == 2 and 'nope.py does not exist' in capsys.readouterr().err
    assert not list(tmp_path.iterdir())  # nothing written
    with pytest.raises(SystemExit):  # configs and --task together
        swap_report.main([CONFIGS[0], '--task', 'seg'])
    assert not list(tmp_path.iterdir())


def test_read_metric_finds_prefixed_keys(tmp_path):
    (tmp_path / 'test_metrics.json').write_text(json.dumps({'coco/bbox_mAP': 0.412}))
    assert read_metric(str(tmp_path), 'bbox_mAP') == (
        0.412,
        str(tmp_path / 'test_metrics.json'),
    )
    assert read_metric(str(tmp_path), 'mIoU') == (None, None)
    assert find_work_dir('a/b/segformer_x_y.py', [str(tmp_path)]) is None


def test_read_metric_takes_the_newest_run_with_the_metric(tmp_path):
    for run, lines in (
        ('20260101_000000', [{'mIoU': 30.0}, {'mIoU': 37.25}]),
        ('20260102', [{'loss': 1}]),
    ):
        vis = tmp_path / run / 'vis_data'
        vis.mkdir(parents=True)
        (vis / 'scalars.json').write_text('\n'.join(json.dumps(r) for r in lines) + '\n')
    value, path = read_metric(str(tmp_path), 'mIoU')
    assert value == 37.25 and '20260101_000000' in path


def test_swap_set_takes_one_size_class_and_refuses_an_empty_one(tmp_path):
    configs = swap_set('seg', 'small', ROOT)
    assert sorted(osp.basename(c).split('_')[1] for c in configs) == [
        'mit-b2',
        'pvtv2-b2',
        'r50-v1c',
        'swin-t',
    ]
    (tmp_path / 'configs' / 'swap' / 'segformer').mkdir(parents=True)
    with pytest.raises(ConfigError, match='no small configs in'):
        swap_set('seg', 'small', str(tmp_path))
