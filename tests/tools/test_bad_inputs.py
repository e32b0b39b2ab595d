"""Every entry point in ``tools/`` on deliberately bad input (issue 22).

One row of ``CASES`` per (entry point, bad input class): the tool runs as a script (``runpy``, in
a forked child, so the heavy imports are paid once) and must exit with the given status, end
stderr with one ``error: ...`` line naming the culprit (the only one; library warnings may come
before it; no traceback unless ``--debug``), and leave every file that existed before untouched.
Adding an entry point is adding rows.
"""

import os
import os.path as osp
import shutil
import subprocess
from dataclasses import dataclass

import pytest

from tests.helpers.bad_input_workspace import build_workspace, run_tool
from tests.helpers.common import ROOT, tree_digest

SEG_QS = 'configs/quickstart/segformer_pvtv2-b0_1xb8-600iter_synthetic-ade-64x64.py'
ADE_CFG = 'configs/segformer/segformer_pvtv2-b0_8xb2-160k_ade20k-512x512.py'
# One batch of all four training images; no pretrained backbone file in the test.
ADE_OPTIONS = ('train_dataloader.batch_size=4', 'model.backbone.init_cfg=None')
DEPTH_QS = 'configs/quickstart/glpn_pvtv2-b0_1xb8-1000iter_synthetic-nyu-64x64.py'
DET_QS = 'configs/quickstart/deformable-detr-refine_pvtv2-b0_1xb8-600iter_synthetic-coco-64x64.py'
CLS_QS = 'configs/quickstart/pvtv2-b0_1xb32-12e_synthetic-in1k-64x64.py'
PAN_QS = (
    'configs/quickstart/panoptic-segformer_pvtv2-b0_1xb8-800iter_synthetic-coco-panoptic-64x64.py'
)


@pytest.fixture(scope='module')
def ws(tmp_path_factory):
    return build_workspace(str(tmp_path_factory.mktemp('bad_inputs')))


@dataclass
class Case:
    """One row: ``tool`` run with ``args(ws)``; ``expect(ws)`` are texts the error line holds."""

    id: str
    tool: str
    args: object
    expect: object = None
    status: int = 2
    slow: bool = False
    traceback: bool = False  # --debug: the traceback comes before the error line


def seg_train(*extra):
    return lambda w: [w['p']('seg.py'), '--work-dir', w['p']('runs', 'x'), *extra]


def sched(name):
    """train.py on the tiny config with one faulty parameter scheduler."""
    return lambda w: [w['p'](name + '.py'), '--work-dir', w['p']('runs', name)]


def seg_data(name, *options):
    """train.py on the tiny config with the training set replaced by a broken copy."""
    return lambda w: [
        w['p']('seg.py'),
        '--work-dir',
        w['p']('runs', name),
        '--cfg-options',
        f'train_dataloader.dataset.data_root={w["bad"][name + "_root"]}',
        *options,
    ]


def qs_data(config, name, *extra, length='train_cfg.max_iters=1'):
    """train.py on a quickstart config, its training set replaced by a broken copy (and the
    validation set by the same copy, whose validation split is intact)."""
    return lambda w: [
        osp.join(ROOT, config),
        '--work-dir',
        w['p']('runs', name),
        '--cfg-options',
        *[f'{s}_dataloader.dataset.data_root={w["bad"][name + "_root"]}' for s in ('train', 'val')],
        length,
        *[e(w) if callable(e) else e for e in extra],
    ]


def pan_evaluator(name):
    """The panoptic metric pointed at the broken copy's (intact) validation annotations."""
    return [
        lambda w: (
            f'val_evaluator.ann_file={w["bad"][name + "_root"]}annotations/panoptic_val2017.json'
        ),
        lambda w: (
            f'val_evaluator.seg_prefix={w["bad"][name + "_root"]}annotations/panoptic_val2017/'
        ),
    ]


def custom_seg(name):
    """train.py on a copy of the custom segmentation config whose edit block has one fault."""
    return lambda w: [
        w['p'](name + '.py'),
        '--work-dir',
        w['p']('runs', name),
        '--cfg-options',
        'train_cfg.max_iters=1',
        'train_dataloader.batch_size=2',
    ]


def seg_test(ckpt, *extra):
    return lambda w: [
        w['p']('seg.py'),
        w['p'](ckpt),
        '--work-dir',
        w['p']('runs', 't'),
        *[w['p'](e) if e.endswith('.pkl') else e for e in extra],
    ]


def seg_test_data(name):
    """test.py on the tiny config, evaluating on the training split of a broken copy."""
    return lambda w: [
        *seg_test('good.pth')(w),
        '--cfg-options',
        f'test_dataloader.dataset.data_root={w["bad"][name + "_root"]}',
        'test_dataloader.dataset.data_prefix.img_path=images/training',
        'test_dataloader.dataset.data_prefix.seg_map_path=annotations/training',
    ]


def infer(ckpt, *inputs, extra=()):
    return lambda w: [
        *[w['p'](i) for i in inputs],
        '--config',
        w['p']('seg.py'),
        '--checkpoint',
        w['p'](ckpt),
        '--out-dir',
        w['p']('runs', 'infer'),
        *extra,
    ]


def hf_export(config, ckpt='good.pth'):
    """export_hf.py on a workspace config whose test pipeline or data preprocessor is bad."""
    return lambda w: [w['p'](config + '.py'), w['p'](ckpt), w['p']('runs', 'hf')]


def names(*parts):
    return lambda w: [w['p'](x) if x.endswith(('.pth', '.pkl', '.py')) else x for x in parts]


# fmt: off
CASES = [
    # train.py: config path, keys, values, types, arguments, work dir
    Case('train-missing-config', 'train.py', names('nope.py'), names('nope.py', 'does not exist')),
    Case('train-config-syntax', 'train.py',
         names('syntax.py'), names('syntax.py', 'SyntaxError', 'never closed')),
    Case('train-config-missing-base', 'train.py',
         names('base.py'),
         lambda w: [w['p']('base.py'), w['p']('no_such_base.py'), 'does not exist']),
    Case('train-unknown-key', 'train.py',
         seg_train('--cfg-options', 'model.backbon.arch=b1'), lambda w: ["'backbon'"]),
    Case('train-wrong-type', 'train.py',
         seg_train('--cfg-options', 'train_cfg.max_iters=abc'),
         lambda w: ['train_cfg.max_iters', 'expected a number']),
    Case('train-arch-typo', 'train.py',
         seg_train('--cfg-options', 'model.backbone.arch=b2li'),
         lambda w: ["arch 'b2li'", "did you mean 'b2-li'"]),
    Case('train-unknown-type', 'train.py',
         seg_train('--cfg-options', 'model.backbone.type=PVTV2'),
         lambda w: ["'PVTV2'", "did you mean 'PVTv2'"]),
    Case('train-unknown-option', 'train.py',
         seg_train('--cfg-options', 'model.decode_head.fo=1'), lambda w: ["'fo'", 'AllMLPHead']),
    Case('train-arch-typo-debug', 'train.py',
         seg_train('--cfg-options', 'model.backbone.arch=b2li', '--debug'),
         lambda w: ["arch 'b2li'", "did you mean 'b2-li'"], traceback=True),
    Case('train-bad-argument', 'train.py', seg_train('--bogus'), lambda w: ['--bogus']),
    # train.py: a parameter scheduler's value, options and type (built when training starts)
    Case('train-scheduler-bad-power', 'train.py',
         sched('sched_power'), lambda w: ['GLPDepthLR: power must be a finite number > 0']),
    Case('train-scheduler-no-eta-min', 'train.py',
         sched('sched_no_eta_min'), lambda w: ["GLPDepthLR needs option(s) 'eta_min'"]),
    Case('train-scheduler-converted-no-eta-min', 'train.py',
         sched('sched_converted'), lambda w: ["GLPDepthLR needs option(s) 'eta_min'"]),
    Case('train-scheduler-unknown-type', 'train.py',
         sched('sched_unknown'),
         lambda w: ["'GLPDepthLRR'", 'parameter scheduler', "did you mean 'GLPDepthLR'"]),
    Case('train-work-dir-holds-run', 'train.py',
         lambda w: [w['p']('seg.py'), '--work-dir', w['p']('held')],
         lambda w: [w['p']('held'), '--resume', '--overwrite']),
    Case('train-resume-junk', 'train.py',
         seg_train('--resume', 'junk.pth'), lambda w: ['junk.pth', 'not a PyTorch checkpoint']),
    # train.py: segmentation data
    Case('train-ann-wrong-size', 'train.py',
         seg_data('wrong_size'), lambda w: [w['bad']['wrong_size'], '32x32'], slow=True),
    Case('train-ann-channels', 'train.py',
         seg_data('wrong_channels'), lambda w: [w['bad']['wrong_channels'], 'single-channel'],
         slow=True),
    Case('train-ann-out-of-range', 'train.py',
         seg_data('out_of_range'), lambda w: [w['bad']['out_of_range'], '[199]', '0..149'],
         slow=True),
    Case('train-ann-unreadable', 'train.py',
         seg_data('unreadable_ann'), lambda w: [w['bad']['unreadable_ann'], 'not a readable image'],
         slow=True),
    Case('train-ann-missing', 'train.py',
         seg_data('missing_ann'), lambda w: [w['bad']['missing_ann'], 'no annotation'], slow=True),
    Case('train-image-not-image', 'train.py',
         seg_data('not_image'), lambda w: [w['bad']['not_image'], 'not a readable image'],
         slow=True),
    Case('train-empty-folder', 'train.py',
         seg_data('empty'), lambda w: [w['bad']['empty'], 'no images'], slow=True),
    Case('train-gray-rgba-16bit-images', 'train.py',
         seg_data('odd_modes', 'train_dataloader.dataset.img_suffix=.png'), status=0, slow=True),
    # train.py: the seg quickstart config a new user copies, and a real ADE20K config (their data
    # workers included)
    Case('train-qs-seg-ann-wrong-size', 'train.py',
         qs_data(SEG_QS, 'wrong_size'), lambda w: [w['bad']['wrong_size'], '32x32'], slow=True),
    Case('train-qs-seg-ann-unreadable', 'train.py',
         qs_data(SEG_QS, 'unreadable_ann'),
         lambda w: [w['bad']['unreadable_ann'], 'not a readable image'], slow=True),
    Case('train-ade20k-out-of-range', 'train.py',
         qs_data(ADE_CFG, 'out_of_range', *ADE_OPTIONS),
         lambda w: [w['bad']['out_of_range'], '[199]', '0..149'], slow=True),
    # train.py: depth and detection data (the quickstart configs, with their data workers)
    Case('train-depth-8bit', 'train.py',
         qs_data(DEPTH_QS, 'depth_8bit'),
         lambda w: [w['bad']['depth_8bit'], 'uint8', 'expected uint16'], slow=True),
    Case('train-depth-size', 'train.py',
         qs_data(DEPTH_QS, 'depth_size'), lambda w: [w['bad']['depth_size'], '32x32'], slow=True),
    Case('train-json-missing-field', 'train.py',
         qs_data(DET_QS, 'json_field'),
         lambda w: [w['bad']['json_field'], "missing field(s) ['bbox']"], slow=True),
    Case('train-json-category', 'train.py',
         qs_data(DET_QS, 'json_category'),
         lambda w: [w['bad']['json_category'], 'unknown category_id 99'], slow=True),
    # train.py: classification and panoptic data (their quickstart configs)
    Case('train-cls-label-out-of-range', 'train.py',
         qs_data(CLS_QS, 'cls_label', length='train_cfg.max_epochs=1'),
         lambda w: [w['bad']['cls_label'], '99'], slow=True),
    Case('train-pan-unknown-category', 'train.py',
         qs_data(PAN_QS, 'pan_category', *pan_evaluator('pan_category')),
         lambda w: [w['bad']['pan_category'], '999'], slow=True),
    Case('train-pan-png-size', 'train.py',
         qs_data(PAN_QS, 'pan_png_size', *pan_evaluator('pan_png_size')),
         lambda w: [w['bad']['pan_png_size'], '32x32'], slow=True),
    Case('train-pan-metric-ann-missing', 'train.py',
         qs_data(PAN_QS, 'pan_png_size'),
         lambda w: ['CocoPanopticMetric', 'panoptic_val2017.json', 'does not exist'], slow=True),
    # train.py: your own segmentation data (the custom config, CheckedSegDataset): label traps
    # and metainfo faults, stopped when the dataset is built
    Case('train-custom-seg-0-255-mask', 'train.py',
         custom_seg('seg_0_255'),
         lambda w: [w['bad']['seg_0_255'], 'holds only 0 and 255', 'mask // 255']),
    Case('train-custom-seg-reduce-zero-on-0-1', 'train.py',
         custom_seg('seg_reduce_0_1'),
         lambda w: [w['bad']['seg_reduce_0_1_root'], 'is a 0/1 mask',
                    'set reduce_zero_label=False']),
    Case('train-custom-seg-above-classes', 'train.py',
         custom_seg('seg_above_classes'),
         lambda w: [w['bad']['seg_above_classes_root'], 'holds label value(s) [3]',
                    'expected 0..2', 'classes (3 entries) must list every class']),
    Case('train-custom-seg-colour-mask', 'train.py',
         custom_seg('seg_colour'),
         lambda w: [w['bad']['seg_colour'], 'has shape (64, 64, 3)', 'single-channel']),
    Case('train-custom-seg-unreadable', 'train.py',
         custom_seg('seg_unreadable'),
         lambda w: [w['bad']['seg_unreadable'], 'is not a readable image']),
    Case('train-custom-seg-reduce-zero-in-pipeline', 'train.py',
         custom_seg('seg_pipeline_reduce'),
         lambda w: ['LoadAnnotations(reduce_zero_label=True)',
                    'dataset has reduce_zero_label=False', 'set it on the dataset only']),
    Case('train-custom-seg-no-classes', 'train.py',
         custom_seg('seg_no_classes'), lambda w: ['FoldedAllMLPHead', 'num_classes=0']),
    Case('train-custom-seg-palette-length', 'train.py',
         custom_seg('seg_palette'),
         lambda w: ['CheckedSegDataset', '2 classes but 1 palette colours']),
    # test.py: checkpoints and outputs
    Case('test-ckpt-missing', 'test.py', seg_test('nope.pth'), names('nope.pth', 'not exist')),
    Case('test-ckpt-zero', 'test.py', seg_test('zero.pth'), names('zero.pth', 'empty')),
    Case('test-ckpt-junk', 'test.py',
         seg_test('junk.pth'), names('junk.pth', 'not a PyTorch checkpoint')),
    Case('test-ckpt-truncated', 'test.py', seg_test('trunc.pth'), names('trunc.pth', 'truncated')),
    Case('test-ckpt-other-task', 'test.py',
         seg_test('other_task.pth'), names('other_task.pth', 'lacks', 'decode_head.')),
    Case('test-ckpt-malicious', 'test.py',
         seg_test('evil.pth'), names('evil.pth', 'refused', 'posix.system')),
    Case('test-out-exists', 'test.py',
         seg_test('good.pth', '--out', 'earlier.pkl'), names('earlier.pkl', '--overwrite')),
    Case('test-ann-out-of-range', 'test.py',
         seg_test_data('out_of_range'),
         lambda w: [w['bad']['out_of_range'], '[199]', '0..149'], slow=True),
    # infer.py
    Case('infer-ckpt-junk', 'infer.py',
         infer('junk.pth', 'not_image.png'), names('junk.pth', 'not a PyTorch checkpoint')),
    Case('infer-not-an-image', 'infer.py',
         infer('good.pth', 'not_image.png'),
         names('not_image.png', 'not a readable image', '1 of 1 input(s) skipped'), slow=True),
    Case('infer-gray-rgba-16bit', 'infer.py', infer('good.pth', 'odd_images'), status=0, slow=True),
    Case('infer-missing-input', 'infer.py',
         infer('good.pth', 'nope.png'), names('nope.png', 'does not exist')),
    # converters
    Case('convert-pvtv2-junk', 'model_converters/convert_pvtv2.py',
         names('junk.pth', 'o.pth'), names('junk.pth', 'not a PyTorch checkpoint')),
    Case('convert-pvtv2-malicious', 'model_converters/convert_pvtv2.py',
         names('evil.pth', 'o.pth'), names('evil.pth', 'refused')),
    Case('convert-pvtv2-dst-exists', 'model_converters/convert_pvtv2.py',
         names('good.pth', 'earlier.pth'), names('earlier.pth', '--overwrite')),
    Case('convert-segformer-zero', 'model_converters/convert_segformer.py',
         names('zero.pth', 'o.pth'), names('zero.pth', 'empty')),
    Case('convert-glpn-truncated', 'model_converters/convert_glpn.py',
         names('trunc.pth', 'o.pth'), names('trunc.pth', 'truncated')),
    Case('convert-panoptic-segformer-junk', 'model_converters/convert_panoptic_segformer.py',
         names('junk.pth', 'o.pth'), names('junk.pth', 'not a PyTorch checkpoint')),
    Case('convert-glpn-other-model', 'model_converters/convert_glpn.py',
         names('other_task.pth', 'o.pth'), names('other_task.pth', 'no decoder.stages')),
    Case('convert-panoptic-segformer-other-model',
         'model_converters/convert_panoptic_segformer.py',
         names('other_task.pth', 'o.pth'),
         names('other_task.pth', 'not an official Panoptic SegFormer state dict')),
    # exports
    Case('export-onnx-junk', 'deployment/export_onnx.py',
         names('seg.py', 'junk.pth', '--out', 'o.onnx'),
         names('junk.pth', 'not a PyTorch checkpoint')),
    Case('export-onnx-out-exists', 'deployment/export_onnx.py',
         names('seg.py', 'good.pth', '--out', 'earlier.pkl'), names('earlier.pkl', '--overwrite')),
    Case('export-hf-out-dir-exists', 'model_converters/export_hf.py',
         lambda w: [w['p']('seg.py'), w['p']('good.pth'), w['p']('report')],
         lambda w: [w['p']('report'), '--overwrite']),
    Case('export-hf-truncated', 'model_converters/export_hf.py',
         lambda w: [w['p']('seg.py'), w['p']('trunc.pth'), w['p']('runs', 'hf')],
         names('trunc.pth', 'truncated')),
    # what no HF image processor reproduces (pvtv2_dense/deploy/hf_processors.py)
    Case('export-hf-step-without-counterpart', 'model_converters/export_hf.py',
         hf_export('hf_flip'), lambda w: ['RandomFlip has no HF segmentation processor']),
    Case('export-hf-resize-scale-factor', 'model_converters/export_hf.py',
         hf_export('hf_scale_factor'), lambda w: ['Resize by scale_factor']),
    Case('export-hf-bgr-model', 'model_converters/export_hf.py',
         hf_export('hf_bgr'), lambda w: ['model.data_preprocessor', 'bgr_to_rgb=True']),
    Case('export-hf-cls-crop-before-resize', 'model_converters/export_hf.py',
         hf_export('hf_cls_order', 'cls.pth'),
         lambda w: ["expected ClsResizeShortEdge then ClsCenterCrop, got ['ClsCenterCrop'"]),
    Case('export-hf-cls-interpolation', 'model_converters/export_hf.py',
         hf_export('hf_cls_interp', 'cls.pth'),
         lambda w: ["interpolation 'area' has no Pillow code"]),
    Case('export-hf-detr-step-without-counterpart', 'model_converters/export_hf.py',
         hf_export('hf_det_flip', 'det.pth'),
         lambda w: ['RandomFlip has no HF detection processor counterpart']),
    Case('convert-nyu-not-hdf5', 'dataset_converters/nyu_labeled_mat.py',
         names('junk.pth', 'nyu_out'), names('junk.pth', 'HDF5')),
    # quickstart and analysis tools
    Case('quickstart-work-dir-holds-run', 'quickstart.py',
         lambda w: ['seg', '--work-dir', w['p']('held')], lambda w: ['--overwrite']),
    Case('quickstart-bad-task', 'quickstart.py',
         names('segm'), names("'segm'", "did you mean 'seg'")),
    Case('get-flops-missing-config', 'analysis_tools/get_flops.py',
         names('nope.py'), names('nope.py')),
    Case('browse-unknown-key', 'analysis_tools/browse_dataset.py',
         lambda w: [w['p']('seg.py'), '--cfg-options', 'train_dataloadr.batch_size=1'],
         lambda w: ["'train_dataloadr'"]),
    Case('benchmark-arch-typo', 'analysis_tools/benchmark.py',
         lambda w: [w['p']('seg.py'), '--cfg-options', 'model.backbone.arch=b6'],
         lambda w: ["arch 'b6'", 'did you mean']),
    Case('benchmark-out-exists', 'analysis_tools/benchmark.py',
         names('seg.py', '--out', 'earlier.pkl'), names('earlier.pkl', '--overwrite')),
    Case('get-flops-json-exists', 'analysis_tools/get_flops.py',
         names('seg.py', '--json', 'earlier.pkl'), names('earlier.pkl', '--overwrite')),
    Case('get-flops-unknown-key', 'analysis_tools/get_flops.py',
         lambda w: [w['p']('seg.py'), '--cfg-options', 'model.backbone.archh=b0'],
         lambda w: ["'archh'"]),
    Case('browse-out-dir-holds-drawings', 'analysis_tools/browse_dataset.py',
         lambda w: [w['p']('seg.py'), '--out-dir', w['p']('odd_images')],
         lambda w: [w['p']('odd_images'), '--overwrite']),
    Case('benchmark-backbone-arch-typo', 'analysis_tools/benchmark_backbone.py',
         names('--archs', 'b2li'), names("'b2li'", "did you mean 'b2-li'")),
    Case('benchmark-peers-bad-mode', 'analysis_tools/benchmark_peers.py',
         names('--modes', 'inference'), names("'inference'", "did you mean 'infer'")),
    Case('scaling-study-table-exists', 'analysis_tools/scaling_study.py',
         lambda w: ['--out-dir', w['p']('report')],
         lambda w: [w['p']('report', 'scaling.md'), '--overwrite']),
    Case('swap-report-report-exists', 'swap_report.py',
         lambda w: [w['p']('seg.py'), '--out-dir', w['p']('report')],
         lambda w: [w['p']('report', 'swap_report.md'), '--overwrite']),
    Case('swap-report-missing-config', 'swap_report.py', names('nope.py'), names('nope.py')),
]
# fmt: on


def _param(case):
    marks = [pytest.mark.slow] if case.slow else []
    return pytest.param(case, id=case.id, marks=marks)


def _clean_outputs(ws):
    """Remove what the cases write (``runs/``, converter outputs); return the outputs found."""
    if osp.isdir(ws['p']('runs')):
        shutil.rmtree(ws['p']('runs'))
    leftovers = [p for p in ('o.pth', 'o.onnx', 'nyu_out') if osp.exists(ws['p'](p))]
    for p in leftovers:
        path = ws['p'](p)
        shutil.rmtree(path) if osp.isdir(path) else os.remove(path)
    return leftovers


@pytest.mark.parametrize('case', [_param(c) for c in CASES])
def test_bad_input(case, ws):
    _clean_outputs(ws)  # what an earlier (failed) case left
    args = case.args(ws)
    before = tree_digest(ws['t'])
    status, out, err = run_tool(case.tool, args, cwd=ws['t'])
    lines = [line for line in err.splitlines() if line.strip()]
    print(f'MATRIX|{case.id}|{status}|{lines[-1] if lines and status else ""}')
    assert status == case.status, f'{case.id}: exit {status}\n{err[-3000:]}'
    assert ('Traceback' in err) == case.traceback, err[-3000:]
    assert not osp.exists(ws['p']('pwned'))
    if case.status == 2:
        assert lines and lines[-1].startswith('error: '), err[-2000:]
        assert sum(line.startswith('error: ') for line in lines) == 1, lines
        for text in case.expect(ws):
            assert text in lines[-1], lines[-1]
    # Nothing that existed before changed (new runs write under runs/ only).
    leftovers = _clean_outputs(ws)
    assert not leftovers or case.status == 0, leftovers
    if tree_digest(ws['t']) != before:
        newer = subprocess.run(['find', ws['t'], '-newer', ws['p']('seg.py')], capture_output=True)
        raise AssertionError(f'{case.id} changed files that existed before: {newer.stdout}')
