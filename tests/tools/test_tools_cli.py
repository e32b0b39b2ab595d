"""tools/test.py --show-dir, tools/infer.py, analysis tools, and the one-line user errors."""

import json
import os
import os.path as osp
import sys

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import MODELS, init_default_scope
from PIL import Image

from pvtv2_dense.datasets import generate_coco, generate_nyu
from tests.helpers.common import ROOT, TINY_ARCH, point_loaders_at, tiny_seg_cfg
from tests.helpers.detection import tiny_det_cfg
from tests.helpers.tools import load_tool


def save_random_checkpoint(cfg, path, **backbone):
    """Random weights of ``cfg.model`` (with backbone overrides) in mmengine's format."""
    init_default_scope('mmseg')
    model_cfg = cfg.model.copy()
    model_cfg.backbone.arch = dict(TINY_ARCH, **backbone)
    model_cfg.decode_head.norm_cfg = dict(type='BN', requires_grad=True)
    torch.manual_seed(0)
    torch.save(dict(state_dict=MODELS.build(model_cfg).state_dict(), meta={}), path)
    return str(path)


@pytest.fixture(scope='module')
def seg(ade_root, tmp_path_factory):
    """A tiny segmentation config file and a checkpoint that fits it."""
    tmp = tmp_path_factory.mktemp('tools_cli')
    cfg = tiny_seg_cfg(ade_root, tmp / 'work')
    config = str(tmp / 'tiny_seg.py')
    cfg.dump(config)
    return dict(cfg=cfg, config=config, ckpt=save_random_checkpoint(cfg, tmp / 'tiny.pth'))


def one_line_error(capsys, main, argv, *expected):
    """``main(argv)`` exits 2 with a single ``error:`` line naming ``expected``."""
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith('error:')]
    assert len(err) == 1, err
    for text in expected:
        assert text in err[0], err[0]
    return err[0]


@pytest.mark.slow
def test_test_py_show_dir_draws_every_image(seg, tmp_path):
    work, vis = tmp_path / 'work', tmp_path / 'vis'
    argv = [seg['config'], seg['ckpt'], '--work-dir', str(work), '--show-dir', str(vis)]
    load_tool('tools/test.py').main(argv + ['--out', str(tmp_path / 'p.pkl')])
    drawn = [f for _, _, fs in os.walk(vis) for f in fs if f.endswith('.png')]
    images = os.listdir(osp.join(seg['cfg'].test_dataloader.dataset.data_root, 'images/validation'))
    assert len(drawn) == len(images) == 4
    assert {'aAcc', 'mIoU'} <= set(json.load(open(work / 'test_metrics.json')))
    assert osp.getsize(tmp_path / 'p.pkl') > 0


@pytest.mark.slow
def test_test_py_keeps_an_earlier_runs_outputs(seg, tmp_path, capsys):
    """A second run into the same --show-dir or --out stops before writing, unless
    --overwrite; an empty --show-dir folder is fine."""
    main = load_tool('tools/test.py').main
    vis, out = tmp_path / 'vis', tmp_path / 'p.pkl'
    vis.mkdir()
    argv = [seg['config'], seg['ckpt'], '--work-dir', str(tmp_path / 'work')]
    main(argv + ['--show-dir', str(vis), '--out', str(out)])
    drawn = sorted(p for p in vis.rglob('*.png'))
    stamps = [p.stat().st_mtime_ns for p in drawn] + [out.stat().st_mtime_ns]
    one_line_error(capsys, main, argv + ['--show-dir', str(vis)], '--show-dir', 'not empty')
    one_line_error(capsys, main, argv + ['--out', str(out)], '--out', 'already exists')
    assert [p.stat().st_mtime_ns for p in drawn] + [out.stat().st_mtime_ns] == stamps
    main(argv + ['--show-dir', str(vis), '--out', str(out), '--overwrite'])
    assert out.stat().st_mtime_ns != stamps[-1]


DEPTH_QUICKSTART = osp.join(
    ROOT, 'configs/quickstart/glpn_pvtv2-b0_1xb8-1000iter_synthetic-nyu-64x64.py'
)


def tiny_task_cfg(task, root, work_dir):
    """A tiny depth or detection config on freshly generated synthetic data."""
    if task == 'depth':
        cfg = Config.fromfile(DEPTH_QUICKSTART)
        cfg.model.backbone.arch = TINY_ARCH
        cfg.model.decode_head.in_channels = TINY_ARCH['hidden_sizes']
        cfg.model.decode_head.channels = 16
        data_root = generate_nyu(str(root), num_train=1, num_val=3)
        point_loaders_at(cfg, data_root)
    else:
        cfg = tiny_det_cfg(generate_coco(str(root), num_train=1, num_val=3), work_dir)
    cfg.work_dir = str(work_dir)
    return cfg


TEST_IMAGES = dict(depth='images/test', det='val2017')


@pytest.mark.slow
@pytest.mark.parametrize('task', ['depth', 'det'])
def test_test_py_show_dir_for_depth_and_detection(task, tmp_path):
    cfg = tiny_task_cfg(task, tmp_path / 'data', tmp_path / 'work')
    config = str(tmp_path / f'tiny_{task}.py')
    cfg.dump(config)
    scope = cfg.default_scope
    init_default_scope(scope)
    torch.manual_seed(0)
    ckpt = str(tmp_path / 'random.pth')
    torch.save(dict(state_dict=MODELS.build(cfg.model).state_dict(), meta={}), ckpt)
    vis = tmp_path / 'vis'
    test_main = load_tool('tools/test.py').main
    test_main([config, ckpt, '--work-dir', str(tmp_path / 'work'), '--show-dir', str(vis)])
    files = [osp.join(r, f) for r, _, fs in os.walk(vis) for f in fs if f.endswith(('.png', 'jpg'))]
    drawn = [f for f in files if 'vis_image' in f or task == 'det']
    assert len(drawn) == 3, files  # one per test image
    if task == 'depth':  # plus the 16-bit depth PNGs of the writer hook (out_dir=None)
        raw = [f for f in files if 'depth_png' in f]
        assert len(raw) == 3 and cv2.imread(raw[0], cv2.IMREAD_UNCHANGED).dtype == np.uint16
    assert json.load(open(tmp_path / 'work' / 'test_metrics.json'))
    # tools/infer.py on the same model: one drawing and one raw output per image.
    img_dir = osp.join(cfg.test_dataloader.dataset.data_root, TEST_IMAGES[task])
    images = sorted(osp.join(img_dir, f) for f in os.listdir(img_dir))
    out = tmp_path / 'infer'
    load_tool('tools/infer.py').main(
        images + ['--config', config, '--checkpoint', ckpt, '--out-dir', str(out), '--save-raw']
    )
    assert len(os.listdir(out / 'vis')) == len(images) == 3
    raw = sorted(os.listdir(out / 'pred'))
    assert len(raw) == 3 and raw[0].endswith('.npy' if task == 'depth' else '.json')


@pytest.mark.slow
def test_infer_on_mixed_folder(seg, tmp_path, capsys):
    folder = tmp_path / 'imgs'
    folder.mkdir()
    rng = np.random.RandomState(0)
    shapes = {'a.jpg': (48, 70), 'a.png': (90, 50), 'gray.png': (40, 64), 'rgba.png': (80, 80)}
    cv2.imwrite(str(folder / 'a.jpg'), rng.randint(0, 255, (*shapes['a.jpg'], 3), np.uint8))
    cv2.imwrite(str(folder / 'a.png'), rng.randint(0, 255, (*shapes['a.png'], 3), np.uint8))
    Image.fromarray(rng.randint(0, 255, shapes['gray.png'], np.uint8), 'L').save(
        folder / 'gray.png'
    )
    rgba = rng.randint(0, 255, (*shapes['rgba.png'], 4), np.uint8)
    Image.fromarray(rgba, 'RGBA').save(folder / 'rgba.png')
    (folder / 'notes.txt').write_text('not an image, not picked up')
    out = tmp_path / 'out'
    infer = load_tool('tools/infer.py').main
    infer(
        [str(folder), '--config', seg['config'], '--checkpoint', seg['ckpt']]
        + ['--out-dir', str(out), '--save-raw']
    )
    names = {'a_jpg', 'a_png', 'gray', 'rgba'}
    assert {f[:-4] for f in os.listdir(out / 'vis')} == names
    for file, (h, w) in shapes.items():
        stem = osp.splitext(file)[0] + ('_' + file[-3:] if file.startswith('a.') else '')
        label = cv2.imread(str(out / 'pred' / f'{stem}.png'), cv2.IMREAD_UNCHANGED)
        assert label.shape == (h, w) and label.max() < 150  # labels at the input's own size
    # An unreadable file is skipped with a warning; the others still come out; exit status 2.
    (folder / 'broken.jpg').write_bytes(b'not a jpeg')
    with pytest.raises(SystemExit) as exc:
        infer(
            [str(folder / 'broken.jpg'), str(folder / 'gray.png'), '--config', seg['config']]
            + ['--checkpoint', seg['ckpt'], '--out-dir', str(tmp_path / 'out2')]
        )
    assert exc.value.code == 2
    err = capsys.readouterr().err.splitlines()
    assert err[-1].startswith('error: 1 of 2 input(s) skipped, e.g. ') and 'broken.jpg' in err[-1]
    assert sum(line.startswith('warning: skipped') for line in err) == 1
    assert os.listdir(tmp_path / 'out2' / 'vis') == ['gray.png']


def test_benchmark_reports_latency_and_memory(seg, tmp_path):
    bench = load_tool('tools/analysis_tools/benchmark.py').main
    out = tmp_path / 'bench.json'
    res = bench(
        [seg['config'], '--checkpoint', seg['ckpt'], '--shape', '64', '--batch-size', '2']
        + ['--warmup', '1', '--repeat', '3', '--out', str(out)]
    )
    assert res['shape'] == [2, 3, 64, 64] and res['repeat'] == 3
    lat = res['latency_ms']
    assert 0 < lat['min'] <= lat['median'] <= lat['max']
    assert res['throughput_img_s'] == pytest.approx(2000 / lat['median'])
    assert res['memory']['peak_mb'] > 0
    assert json.load(open(out))['latency_ms'] == lat


def test_browse_dataset_draws_pipeline_output(seg, tmp_path):
    browse = load_tool('tools/analysis_tools/browse_dataset.py').main
    browse([seg['config'], '--out-dir', str(tmp_path / 'b'), '--num', '2'])
    files = sorted(os.listdir(tmp_path / 'b'))
    assert len(files) == 2 and files[0].startswith('0000_ADE_train_')
    # The training pipeline crops to 64x64; the drawing shows image and mask side by side.
    img = cv2.imread(str(tmp_path / 'b' / files[0]))
    assert img.shape[0] == 64


def test_get_flops_counts_the_model(seg, monkeypatch, capsys, tmp_path):
    """The parameter count is the model's own; FLOPs grow between linearly and quadratically
    with the pixel count (every op is linear in pixels but attention, which is quadratic)."""
    tool = load_tool('tools/analysis_tools/get_flops.py')
    results = {}
    for shape in ((64, 64), (64, 128)):
        out = tmp_path / f'{shape[1]}.json'
        argv = ['get_flops.py', seg['config'], '--shape', *map(str, shape), '--json', str(out)]
        monkeypatch.setattr(sys, 'argv', argv)
        tool.main()
        assert f'input 3x{shape[0]}x{shape[1]}' in capsys.readouterr().out
        results[shape] = json.loads(out.read_text())
    init_default_scope('mmseg')
    model = MODELS.build(seg['cfg'].model)
    assert results[(64, 64)]['params'] == sum(p.numel() for p in model.parameters())
    ratio = results[(64, 128)]['flops'] / results[(64, 64)]['flops']
    assert results[(64, 64)]['flops'] > 0 and 2.0 <= ratio <= 4.0, ratio


def test_bad_config_path_is_one_line(capsys, tmp_path):
    for tool in ('tools/train.py', 'tools/analysis_tools/benchmark.py'):
        one_line_error(capsys, load_tool(tool).main, [str(tmp_path / 'nope.py')], 'nope.py')
    test_main = load_tool('tools/test.py').main
    ckpt = tmp_path / 'x.pth'
    ckpt.write_bytes(b'')
    one_line_error(capsys, test_main, [str(tmp_path / 'nope.py'), str(ckpt)], 'does not exist')


def test_unknown_cfg_options_key_is_one_line(seg, capsys):
    train = load_tool('tools/train.py').main
    msg = one_line_error(
        capsys, train, [seg['config'], '--cfg-options', 'model.backbon.arch=b1'], 'backbon'
    )
    assert 'model has no key' in msg
    one_line_error(
        capsys, train, [seg['config'], '--cfg-options', 'train_cfg.max_iters.x=1'], 'is int'
    )
    one_line_error(
        capsys, train, [seg['config'], '--cfg-options', 'train_pipeline.9.scale=1'], 'index'
    )


def test_new_leaf_under_existing_dict_is_allowed_and_announced(seg, capsys):
    from pvtv2_dense.cli import load_config

    cfg = load_config(seg['config'], {'model.backbone.with_cp': True, 'train_cfg.max_iters': 7})
    assert cfg.model.backbone.with_cp is True and cfg.train_cfg.max_iters == 7
    err = capsys.readouterr().err
    assert 'adds model.backbone.with_cp' in err and 'max_iters' not in err


def test_mismatched_checkpoint_is_one_line(seg, tmp_path, capsys):
    wrong = save_random_checkpoint(seg['cfg'], tmp_path / 'wide.pth', hidden_sizes=[16, 16, 32, 32])
    bench = load_tool('tools/analysis_tools/benchmark.py').main
    msg = one_line_error(
        capsys, bench, [seg['config'], '--checkpoint', wrong], 'wide.pth', 'does not fit'
    )
    assert 'hidden sizes 16,16,32,32' in msg and 'hidden sizes 8,16,32,32' in msg
    # tools/test.py stops after building the runner, before evaluating random layers.
    test_main = load_tool('tools/test.py').main
    argv = [seg['config'], wrong, '--work-dir', str(tmp_path / 'w')]
    one_line_error(capsys, test_main, argv, 'wide.pth', 'does not fit', 'tensors differ in shape')


def test_compile_flag_adds_the_hook_and_amp_without_gpu_is_cpu_bf16(seg, capsys):
    for rel, extra in (('tools/train.py', []), ('tools/test.py', [seg['ckpt']])):
        tool = load_tool(rel)
        plain = tool.build_cfg(tool.parse_args([seg['config'], *extra]))
        hooks = plain.get('custom_hooks', [])
        assert not any(h['type'] == 'TorchCompileHook' for h in hooks)
        for argv, backend in (
            (['--compile'], 'inductor'),
            (['--compile', 'aot_eager'], 'aot_eager'),
        ):
            cfg = tool.build_cfg(tool.parse_args([seg['config'], *extra, *argv]))
            added = [h for h in cfg.custom_hooks if h['type'] == 'TorchCompileHook']
            assert added == [dict(type='TorchCompileHook', backend=backend)]
            assert len(cfg.custom_hooks) == len(hooks) + 1  # the config's own hooks are kept
    if not torch.cuda.is_available():  # --amp without a GPU: CPU bfloat16 autocast, said in a line
        tool = load_tool('tools/train.py')
        capsys.readouterr()
        cfg = tool.build_cfg(tool.parse_args([seg['config'], '--amp']))
        assert cfg.optim_wrapper.type == 'CpuBf16OptimWrapper'
        assert 'loss_scale' not in cfg.optim_wrapper
        out = capsys.readouterr().out.strip().splitlines()
        assert len(out) == 1 and 'bfloat16 CPU autocast' in out[0]
