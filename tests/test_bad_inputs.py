"""Every entry point in ``tools/`` on deliberately bad input (issue 22).

One row of ``CASES`` per (entry point, bad input class): the tool runs as a script (``runpy``, in
a forked child, so the heavy imports are paid once) and must exit with the given status, end
stderr with one ``error: ...`` line naming the culprit (no traceback), and leave every file that
existed before untouched. Adding an entry point is adding rows.
"""

import json
import os
import os.path as osp
import runpy
import shutil
import subprocess
import sys
import tempfile
import traceback
from dataclasses import dataclass

import cv2
import numpy as np
import pytest
import torch
from mmengine.registry import MODELS, init_default_scope

from pvtv2_dense.datasets import generate_ade20k, generate_coco, generate_nyu

from .conftest import ROOT, tiny_seg_cfg, tree_digest

SEG_QS = 'configs/quickstart/segformer_pvtv2-b0_1xb8-600iter_synthetic-ade-64x64.py'
ADE_CFG = 'configs/segformer/segformer_pvtv2-b0_8xb2-160k_ade20k-512x512.py'
DEPTH_QS = 'configs/quickstart/glpn_pvtv2-b0_1xb8-1000iter_synthetic-nyu-64x64.py'
DET_QS = 'configs/quickstart/deformable-detr-refine_pvtv2-b0_1xb8-600iter_synthetic-coco-64x64.py'


def run_tool(tool, args, cwd):
    """Run ``tools/<tool>`` with ``args`` as ``python tools/<tool> ARGS`` would; returns
    (exit status, stdout, stderr). The child is a fork of this process."""
    out_fd, out_path = tempfile.mkstemp()
    err_fd, err_path = tempfile.mkstemp()
    pid = os.fork()
    if pid == 0:  # child: never returns into pytest
        code = 1
        try:
            os.dup2(out_fd, 1)
            os.dup2(err_fd, 2)
            # pytest swaps sys.stdout/err for its own capture objects: write to the fds.
            sys.stdout = open(1, 'w', buffering=1, closefd=False)
            sys.stderr = open(2, 'w', buffering=1, closefd=False)
            os.chdir(cwd)
            torch.set_num_threads(1)  # no OpenMP pool carried across the fork
            sys.argv = [osp.join(ROOT, 'tools', tool), *args]
            try:
                runpy.run_path(sys.argv[0], run_name='__main__')
                code = 0
            except SystemExit as done:
                if isinstance(done.code, str):
                    print(done.code, file=sys.stderr)
                code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
            except BaseException:
                traceback.print_exc()
                code = 1
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    outputs = []
    for fd, path in ((out_fd, out_path), (err_fd, err_path)):
        os.close(fd)
        with open(path, errors='replace') as f:
            outputs.append(f.read())
        os.remove(path)
    return os.waitstatus_to_exitcode(status), outputs[0], outputs[1]


def _mutate_first(folder, suffix, write):
    path = sorted(p for p in os.listdir(folder) if p.endswith(suffix))[0]
    write(osp.join(folder, path))
    return osp.join(folder, path)


def _copy(src, dst):
    shutil.copytree(src, dst)
    return dst


@pytest.fixture(scope='module')
def ws(tmp_path_factory):
    """A workspace: a tiny config, a checkpoint that fits it, and broken copies of everything."""
    t = str(tmp_path_factory.mktemp('bad_inputs'))
    p = lambda *parts: osp.join(t, *parts)  # noqa: E731
    ade = generate_ade20k(p('ade'), num_train=4, num_val=2, seed=1)
    cfg = tiny_seg_cfg(ade, p('work'), max_iters=2)
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', by_epoch=False, interval=1000)
    cfg.dump(p('seg.py'))
    init_default_scope('mmseg')
    model_cfg = cfg.model.copy()
    model_cfg.decode_head.norm_cfg = dict(type='BN', requires_grad=True)
    torch.manual_seed(0)
    sd = MODELS.build(model_cfg).state_dict()
    torch.save(dict(state_dict=sd, meta={}), p('good.pth'))
    with open(p('good.pth'), 'rb') as f:
        good = f.read()
    with open(p('trunc.pth'), 'wb') as f:
        f.write(good[: len(good) // 2])
    open(p('zero.pth'), 'wb').close()
    with open(p('junk.pth'), 'w') as f:
        f.write('hello\n')
    backbone = {k: v for k, v in sd.items() if k.startswith('backbone.')}
    torch.save(dict(state_dict=backbone), p('other_task.pth'))
    torch.save({'state_dict': {}, 'meta': _Payload(p('pwned'))}, p('evil.pth'))
    with open(p('not_image.png'), 'w') as f:
        f.write('not an image')
    img = cv2.imread(
        osp.join(ade, 'images/validation', os.listdir(osp.join(ade, 'images/validation'))[0])
    )
    os.makedirs(p('odd_images'))
    cv2.imwrite(p('odd_images', 'gray.png'), cv2.cvtColor(img, cv2.COLOR_BGR2GRAY))
    cv2.imwrite(p('odd_images', 'rgba.png'), cv2.cvtColor(img, cv2.COLOR_BGR2BGRA))
    cv2.imwrite(p('odd_images', 'deep.png'), img.astype(np.uint16) * 257)
    os.makedirs(p('held'))
    torch.save(dict(state_dict=sd, meta={}), p('held', 'iter_2.pth'))
    with open(p('held', 'last_checkpoint'), 'w') as f:
        f.write(p('held', 'iter_2.pth'))
    open(p('earlier.pkl'), 'wb').close()
    with open(p('syntax.py'), 'w') as f:
        f.write('model = dict(\n')
    with open(p('base.py'), 'w') as f:
        f.write("_base_ = ['./no_such_base.py']\n")
    os.makedirs(p('report'))
    for name in ('scaling.md', 'swap_report.md'):
        with open(p('report', name), 'w') as f:
            f.write('an earlier report\n')
    with open(p('earlier.pth'), 'wb') as f:
        f.write(good)

    # Segmentation sets with one fault each (all in the training split: 2 iterations of batch 2
    # draw every one of the 4 images).
    train_ann = 'annotations/training'
    train_img = 'images/training'
    bad = {}
    for name, rel, write in [
        ('wrong_size', train_ann, lambda f: cv2.imwrite(f, np.ones((32, 32), np.uint8))),
        ('wrong_channels', train_ann, lambda f: cv2.imwrite(f, np.ones((64, 64, 3), np.uint8))),
        ('out_of_range', train_ann, lambda f: cv2.imwrite(f, np.full((64, 64), 200, np.uint8))),
        ('unreadable_ann', train_ann, lambda f: open(f, 'w').write('not a png')),
        ('not_image', train_img, lambda f: open(f, 'w').write('not an image')),
        ('missing_ann', train_ann, os.remove),
    ]:
        root = _copy(ade, p('bad', name))
        bad[name] = _mutate_first(osp.join(root, rel), '.png' if 'ann' in rel else '.jpg', write)
        bad[name + '_root'] = root
    root = _copy(ade, p('bad', 'empty'))
    shutil.rmtree(osp.join(root, train_img))
    os.makedirs(osp.join(root, train_img))
    bad['empty_root'], bad['empty'] = root, osp.join(root, train_img)
    root = _copy(ade, p('bad', 'odd_modes'))
    for i, name in enumerate(sorted(os.listdir(osp.join(root, train_img)))[:3]):
        path = osp.join(root, train_img, name)
        im = cv2.imread(path)
        os.remove(path)
        mode = [cv2.cvtColor(im, cv2.COLOR_BGR2GRAY), cv2.cvtColor(im, cv2.COLOR_BGR2BGRA),
                im.astype(np.uint16) * 257][i]  # fmt: skip
        # PNG keeps the mode; the annotation keeps its name (same stem).
        cv2.imwrite(path[: -len('.jpg')] + '.png', mode)
    bad['odd_modes_root'] = root

    nyu = generate_nyu(p('nyu_src'), num_train=4, num_val=2, seed=2)
    for name, write in [
        ('depth_8bit', lambda f: cv2.imwrite(f, np.full((64, 64), 9, np.uint8))),
        ('depth_size', lambda f: cv2.imwrite(f, np.full((32, 32), 900, np.uint16))),
    ]:
        root = _copy(nyu, p('bad', name))
        bad[name] = _mutate_first(osp.join(root, 'annotations/train'), '.png', write)
        bad[name + '_root'] = root

    coco = generate_coco(p('coco_src'), num_train=4, num_val=2, seed=3)
    for name, edit in [
        ('json_field', lambda ann: ann.pop('bbox')),
        ('json_category', lambda ann: ann.update(category_id=99)),
    ]:
        root = _copy(coco, p('bad', name))
        path = osp.join(root, 'annotations/instances_train2017.json')
        with open(path) as f:
            data = json.load(f)
        edit(data['annotations'][0])
        with open(path, 'w') as f:
            json.dump(data, f)
        bad[name], bad[name + '_root'] = path, root + '/'
    return dict(t=t, p=p, ade=ade, bad=bad)


class _Payload:
    """Unpickling this would create a file; the checks make sure it never happens."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}',))


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


def qs_data(config, name, *extra):
    """train.py on a quickstart config, its training set replaced by a broken copy (and the
    validation set by the same copy, whose validation split is intact)."""
    return lambda w: [
        osp.join(ROOT, config),
        '--work-dir',
        w['p']('runs', name),
        '--cfg-options',
        *[f'{s}_dataloader.dataset.data_root={w["bad"][name + "_root"]}' for s in ('train', 'val')],
        'train_cfg.max_iters=1',
        *extra,
    ]


def seg_test(ckpt, *extra):
    return lambda w: [
        w['p']('seg.py'),
        w['p'](ckpt),
        '--work-dir',
        w['p']('runs', 't'),
        *[w['p'](e) if e.endswith('.pkl') else e for e in extra],
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


def names(*parts):
    return lambda w: [w['p'](x) if x.endswith(('.pth', '.pkl', '.py')) else x for x in parts]


def bad_file(name):
    return lambda w: [osp.basename(w['bad'][name])]


CASES = [
    # train.py: config path, keys, values, types, arguments, work dir
    Case('train-missing-config', 'train.py', names('nope.py'), names('nope.py', 'does not exist')),
    Case(
        'train-config-syntax',
        'train.py',
        names('syntax.py'),
        names('syntax.py', 'SyntaxError', 'never closed'),
    ),  # fmt: skip
    Case(
        'train-config-missing-base',
        'train.py',
        names('base.py'),
        lambda w: [w['p']('base.py'), w['p']('no_such_base.py'), 'does not exist'],
    ),  # fmt: skip
    Case(
        'train-unknown-key',
        'train.py',
        seg_train('--cfg-options', 'model.backbon.arch=b1'),
        lambda w: ["'backbon'"],
    ),  # fmt: skip
    Case(
        'train-wrong-type',
        'train.py',
        seg_train('--cfg-options', 'train_cfg.max_iters=abc'),
        lambda w: ['train_cfg.max_iters', 'expected a number'],
    ),  # fmt: skip
    Case(
        'train-arch-typo',
        'train.py',
        seg_train('--cfg-options', 'model.backbone.arch=b2li'),
        lambda w: ["arch 'b2li'", "did you mean 'b2-li'"],
    ),  # fmt: skip
    Case(
        'train-unknown-type',
        'train.py',
        seg_train('--cfg-options', 'model.backbone.type=PVTV2'),
        lambda w: ["'PVTV2'", "did you mean 'PVTv2'"],
    ),  # fmt: skip
    Case(
        'train-unknown-option',
        'train.py',
        seg_train('--cfg-options', 'model.decode_head.fo=1'),
        lambda w: ["'fo'", 'AllMLPHead'],
    ),  # fmt: skip
    Case(
        'train-arch-typo-debug',
        'train.py',
        seg_train('--cfg-options', 'model.backbone.arch=b2li', '--debug'),
        lambda w: ["arch 'b2li'", "did you mean 'b2-li'"],
        traceback=True,
    ),  # fmt: skip
    Case('train-bad-argument', 'train.py', seg_train('--bogus'), lambda w: ['--bogus']),
    Case(
        'train-work-dir-holds-run',
        'train.py',
        lambda w: [w['p']('seg.py'), '--work-dir', w['p']('held')],
        lambda w: [w['p']('held'), '--resume', '--overwrite'],
    ),  # fmt: skip
    Case(
        'train-resume-junk',
        'train.py',
        seg_train('--resume', 'junk.pth'),
        lambda w: ['junk.pth', 'not a PyTorch checkpoint'],
    ),  # fmt: skip
    # train.py: segmentation data
    Case(
        'train-ann-wrong-size',
        'train.py',
        seg_data('wrong_size'),
        lambda w: [w['bad']['wrong_size'], '32x32'],
        slow=True,
    ),  # fmt: skip
    Case(
        'train-ann-channels',
        'train.py',
        seg_data('wrong_channels'),
        lambda w: [w['bad']['wrong_channels'], 'single-channel'],
        slow=True,
    ),  # fmt: skip
    Case(
        'train-ann-out-of-range',
        'train.py',
        seg_data('out_of_range'),
        lambda w: [w['bad']['out_of_range'], '[199]', '0..149'],
        slow=True,
    ),  # fmt: skip
    Case(
        'train-ann-unreadable',
        'train.py',
        seg_data('unreadable_ann'),
        lambda w: [w['bad']['unreadable_ann'], 'not a readable image'],
        slow=True,
    ),  # fmt: skip
    Case(
        'train-ann-missing',
        'train.py',
        seg_data('missing_ann'),
        lambda w: [w['bad']['missing_ann'], 'no annotation'],
        slow=True,
    ),  # fmt: skip
    Case(
        'train-image-not-image',
        'train.py',
        seg_data('not_image'),
        lambda w: [w['bad']['not_image'], 'not a readable image'],
        slow=True,
    ),  # fmt: skip
    Case(
        'train-empty-folder',
        'train.py',
        seg_data('empty'),
        lambda w: [w['bad']['empty'], 'no images'],
        slow=True,
    ),  # fmt: skip
    Case(
        'train-gray-rgba-16bit-images',
        'train.py',
        seg_data('odd_modes', 'train_dataloader.dataset.img_suffix=.png'),
        status=0,
        slow=True,
    ),  # fmt: skip
    # train.py: the seg quickstart config a new user copies, and a real ADE20K config (their data
    # workers included)
    Case(
        'train-qs-seg-ann-wrong-size',
        'train.py',
        qs_data(SEG_QS, 'wrong_size'),
        lambda w: [w['bad']['wrong_size'], '32x32'],
        slow=True,
    ),  # fmt: skip
    Case(
        'train-qs-seg-ann-unreadable',
        'train.py',
        qs_data(SEG_QS, 'unreadable_ann'),
        lambda w: [w['bad']['unreadable_ann'], 'not a readable image'],
        slow=True,
    ),  # fmt: skip
    Case(
        'train-ade20k-out-of-range',
        'train.py',
        qs_data(
            ADE_CFG, 'out_of_range', 'train_dataloader.batch_size=4', 'model.backbone.init_cfg=None'
        ),
        lambda w: [w['bad']['out_of_range'], '[199]', '0..149'],
        slow=True,
    ),  # fmt: skip
    # train.py: depth and detection data (the quickstart configs, with their data workers)
    Case(
        'train-depth-8bit',
        'train.py',
        qs_data(DEPTH_QS, 'depth_8bit'),
        lambda w: [w['bad']['depth_8bit'], 'uint8', 'expected uint16'],
        slow=True,
    ),  # fmt: skip
    Case(
        'train-depth-size',
        'train.py',
        qs_data(DEPTH_QS, 'depth_size'),
        lambda w: [w['bad']['depth_size'], '32x32'],
        slow=True,
    ),  # fmt: skip
    Case(
        'train-json-missing-field',
        'train.py',
        qs_data(DET_QS, 'json_field'),
        lambda w: [w['bad']['json_field'], "missing field(s) ['bbox']"],
        slow=True,
    ),  # fmt: skip
    Case(
        'train-json-category',
        'train.py',
        qs_data(DET_QS, 'json_category'),
        lambda w: [w['bad']['json_category'], 'unknown category_id 99'],
        slow=True,
    ),  # fmt: skip
    # test.py: checkpoints and outputs
    Case('test-ckpt-missing', 'test.py', seg_test('nope.pth'), names('nope.pth', 'not exist')),
    Case('test-ckpt-zero', 'test.py', seg_test('zero.pth'), names('zero.pth', 'empty')),
    Case(
        'test-ckpt-junk',
        'test.py',
        seg_test('junk.pth'),
        names('junk.pth', 'not a PyTorch checkpoint'),
    ),  # fmt: skip
    Case(
        'test-ckpt-truncated', 'test.py', seg_test('trunc.pth'), names('trunc.pth', 'truncated')
    ),  # fmt: skip
    Case(
        'test-ckpt-other-task',
        'test.py',
        seg_test('other_task.pth'),
        names('other_task.pth', 'lacks', 'decode_head.'),
    ),  # fmt: skip
    Case(
        'test-ckpt-malicious',
        'test.py',
        seg_test('evil.pth'),
        names('evil.pth', 'refused', 'posix.system'),
    ),  # fmt: skip
    Case(
        'test-out-exists',
        'test.py',
        seg_test('good.pth', '--out', 'earlier.pkl'),
        names('earlier.pkl', '--overwrite'),
    ),  # fmt: skip
    Case(
        'test-ann-out-of-range',
        'test.py',
        lambda w: [
            *seg_test('good.pth')(w),
            '--cfg-options',
            f'test_dataloader.dataset.data_root={w["bad"]["out_of_range_root"]}',
            'test_dataloader.dataset.data_prefix.img_path=images/training',
            'test_dataloader.dataset.data_prefix.seg_map_path=annotations/training',
        ],
        lambda w: [w['bad']['out_of_range'], '[199]', '0..149'],
        slow=True,
    ),  # fmt: skip
    # infer.py
    Case(
        'infer-ckpt-junk',
        'infer.py',
        infer('junk.pth', 'not_image.png'),
        names('junk.pth', 'not a PyTorch checkpoint'),
    ),  # fmt: skip
    Case(
        'infer-not-an-image',
        'infer.py',
        infer('good.pth', 'not_image.png'),
        names('not_image.png', 'not a readable image', '1 of 1 input(s) skipped'),
        slow=True,
    ),  # fmt: skip
    Case(
        'infer-gray-rgba-16bit', 'infer.py', infer('good.pth', 'odd_images'), status=0, slow=True
    ),  # fmt: skip
    Case(
        'infer-missing-input',
        'infer.py',
        infer('good.pth', 'nope.png'),
        names('nope.png', 'does not exist'),
    ),  # fmt: skip
    # converters
    Case(
        'convert-pvtv2-junk',
        'model_converters/convert_pvtv2.py',
        names('junk.pth', 'o.pth'),
        names('junk.pth', 'not a PyTorch checkpoint'),
    ),  # fmt: skip
    Case(
        'convert-pvtv2-malicious',
        'model_converters/convert_pvtv2.py',
        names('evil.pth', 'o.pth'),
        names('evil.pth', 'refused'),
    ),  # fmt: skip
    Case(
        'convert-pvtv2-dst-exists',
        'model_converters/convert_pvtv2.py',
        names('good.pth', 'earlier.pth'),
        names('earlier.pth', '--overwrite'),
    ),  # fmt: skip
    Case(
        'convert-segformer-zero',
        'model_converters/convert_segformer.py',
        names('zero.pth', 'o.pth'),
        names('zero.pth', 'empty'),
    ),  # fmt: skip
    Case(
        'convert-glpn-truncated',
        'model_converters/convert_glpn.py',
        names('trunc.pth', 'o.pth'),
        names('trunc.pth', 'truncated'),
    ),  # fmt: skip
    Case(
        'convert-nyu-not-hdf5',
        'dataset_converters/nyu_labeled_mat.py',
        names('junk.pth', 'nyu_out'),
        names('junk.pth', 'HDF5'),
    ),  # fmt: skip
    # quickstart and analysis tools
    Case(
        'quickstart-work-dir-holds-run',
        'quickstart.py',
        lambda w: ['seg', '--work-dir', w['p']('held')],
        lambda w: ['--overwrite'],
    ),  # fmt: skip
    Case(
        'quickstart-bad-task',
        'quickstart.py',
        names('segm'),
        names("'segm'", "did you mean 'seg'"),
    ),  # fmt: skip
    Case(
        'get-flops-missing-config',
        'analysis_tools/get_flops.py',
        names('nope.py'),
        names('nope.py'),
    ),  # fmt: skip
    Case(
        'browse-unknown-key',
        'analysis_tools/browse_dataset.py',
        lambda w: [w['p']('seg.py'), '--cfg-options', 'train_dataloadr.batch_size=1'],
        lambda w: ["'train_dataloadr'"],
    ),  # fmt: skip
    Case(
        'benchmark-arch-typo',
        'analysis_tools/benchmark.py',
        lambda w: [w['p']('seg.py'), '--cfg-options', 'model.backbone.arch=b6'],
        lambda w: ["arch 'b6'", 'did you mean'],
    ),  # fmt: skip
    Case(
        'benchmark-out-exists',
        'analysis_tools/benchmark.py',
        names('seg.py', '--out', 'earlier.pkl'),
        names('earlier.pkl', '--overwrite'),
    ),  # fmt: skip
    Case(
        'get-flops-json-exists',
        'analysis_tools/get_flops.py',
        names('seg.py', '--json', 'earlier.pkl'),
        names('earlier.pkl', '--overwrite'),
    ),  # fmt: skip
    Case(
        'get-flops-unknown-key',
        'analysis_tools/get_flops.py',
        lambda w: [w['p']('seg.py'), '--cfg-options', 'model.backbone.archh=b0'],
        lambda w: ["'archh'"],
    ),  # fmt: skip
    Case(
        'browse-out-dir-holds-drawings',
        'analysis_tools/browse_dataset.py',
        lambda w: [w['p']('seg.py'), '--out-dir', w['p']('odd_images')],
        lambda w: [w['p']('odd_images'), '--overwrite'],
    ),  # fmt: skip
    Case(
        'benchmark-backbone-arch-typo',
        'analysis_tools/benchmark_backbone.py',
        names('--archs', 'b2li'),
        names("'b2li'", "did you mean 'b2-li'"),
    ),  # fmt: skip
    Case(
        'benchmark-peers-bad-mode',
        'analysis_tools/benchmark_peers.py',
        names('--modes', 'inference'),
        names("'inference'", "did you mean 'infer'"),
    ),  # fmt: skip
    Case(
        'scaling-study-table-exists',
        'analysis_tools/scaling_study.py',
        lambda w: ['--out-dir', w['p']('report')],
        lambda w: [w['p']('report', 'scaling.md'), '--overwrite'],
    ),  # fmt: skip
    Case(
        'swap-report-report-exists',
        'swap_report.py',
        lambda w: [w['p']('seg.py'), '--out-dir', w['p']('report')],
        lambda w: [w['p']('report', 'swap_report.md'), '--overwrite'],
    ),  # fmt: skip
    Case('swap-report-missing-config', 'swap_report.py', names('nope.py'), names('nope.py')),
]


def _param(case):
    marks = [pytest.mark.slow] if case.slow else []
    return pytest.param(case, id=case.id, marks=marks)


def _clean_outputs(ws):
    """Remove what the cases write (``runs/``, converter outputs); return the outputs found."""
    if osp.isdir(ws['p']('runs')):
        shutil.rmtree(ws['p']('runs'))
    leftovers = [p for p in ('o.pth', 'nyu_out') if osp.exists(ws['p'](p))]
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
