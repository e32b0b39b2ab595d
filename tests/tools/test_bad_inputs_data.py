"""Bad-input matrix rows for the data faults of issue 33 (and the interpolated masks of 35).

Each row runs ``tools/train.py``, ``tools/test.py`` or the NYU converter on one broken copy of a
tiny set (``tests/helpers/bad_data_workspace.py``) and must exit 2 with one ``error:`` line,
the last of stderr, naming the file at fault, no traceback, and nothing that existed before
changed. Every row ended differently before these checks: a traceback, exit 0 on data read from
outside its folder, or a message that blamed ``classes`` for an interpolated mask.
"""

import os
import os.path as osp
import shutil
import subprocess
from dataclasses import dataclass

import pytest

from tests.helpers.bad_data_workspace import QUICKSTART, build_data_workspace
from tests.helpers.bad_input_workspace import run_tool
from tests.helpers.common import ROOT, tree_digest

DET_QS, CLS_QS, PAN_QS = QUICKSTART['det'], QUICKSTART['cls'], QUICKSTART['pan']


@pytest.fixture(scope='module')
def ws(tmp_path_factory):
    return build_data_workspace(str(tmp_path_factory.mktemp('bad_data')))


@dataclass
class Case:
    """One row: ``tool`` run with ``args(ws)``; the error line holds ``bad[fault]`` and
    ``texts``."""

    id: str
    tool: str
    args: object
    fault: str
    texts: tuple = ()
    slow: bool = False


def seg_test(fault):
    """test.py on the tiny config, evaluating on the training split of a broken copy."""
    return lambda w: [
        w['p']('seg.py'),
        w['p']('good.pth'),
        '--work-dir',
        w['p']('runs', 't'),
        '--cfg-options',
        f'test_dataloader.dataset.data_root={w["bad"][fault + "_root"]}',
        'test_dataloader.dataset.data_prefix.img_path=images/training',
        'test_dataloader.dataset.data_prefix.seg_map_path=annotations/training',
    ]


def train(fault, config=None, length='train_cfg.max_iters=1'):
    """train.py on the tiny segmentation config (or a quickstart config, whose validation set
    is the broken copy's intact one), its training set a broken copy."""

    def root(w, split):
        return f'{split}_dataloader.dataset.data_root={w["bad"][fault + "_root"]}'

    if config is None:
        return lambda w: [
            *[w['p']('seg.py'), '--work-dir', w['p']('runs', fault)],
            *['--cfg-options', root(w, 'train')],
        ]

    def metric(w):
        """The quickstart's metric pointed at the copy's (intact) validation annotations."""
        where = w['bad'][fault + '_root']
        if config == DET_QS:
            return [f'val_evaluator.ann_file={where}annotations/instances_val2017.json']
        if config == PAN_QS:
            return [
                f'val_evaluator.ann_file={where}annotations/panoptic_val2017.json',
                f'val_evaluator.seg_prefix={where}annotations/panoptic_val2017/',
            ]
        return []

    return lambda w: [
        *[osp.join(ROOT, config), '--work-dir', w['p']('runs', fault), '--cfg-options'],
        *[root(w, 'train'), root(w, 'val'), length, *metric(w)],
    ]


NYU = 'dataset_converters/nyu_labeled_mat.py'

# Slow rows: the quickstart ones (detection, panoptic, classification) build their model before
# the dataset refuses, 5-10 s each on 2 cores, like the quickstart rows of test_bad_inputs.py;
# the odd-size rows run a first iteration; the test.py rows repeat a train.py refusal.
# fmt: off
CASES = [
    Case('train-seg-label-map-all-ignore', 'train.py', train('seg_all_ignore'),
         'seg_all_ignore', ('no valid pixel', 'allow_empty=True')),
    Case('test-seg-label-map-all-ignore', 'test.py', seg_test('seg_all_ignore'),
         'seg_all_ignore', ('no valid pixel',), slow=True),
    Case('train-seg-interpolated-label-map', 'train.py', train('seg_interpolated'),
         'seg_interpolated', ('interpolation', 'nearest-neighbour', 'PNG')),
    Case('train-seg-symlink-loop', 'train.py', train('seg_loop'),
         'seg_loop', ('symlink', 'a loop')),
    Case('test-seg-symlink-loop', 'test.py', seg_test('seg_loop'),
         'seg_loop', ('symlink', 'a loop'), slow=True),
    Case('train-seg-image-1x1', 'train.py', train('seg_1x1'),
         'seg_1x1', ('1x1 (HxW)', 'drop or crop'), slow=True),
    Case('test-seg-image-20x10000', 'test.py', seg_test('seg_20x10000'),
         'seg_20x10000', ('20x10000 (HxW)', 'drop or crop'), slow=True),
    Case('train-det-json-truncated', 'train.py', train('det_json_truncated', DET_QS),
         'det_json_truncated', ('not valid JSON',), slow=True),
    Case('train-det-json-empty', 'train.py', train('det_json_empty', DET_QS),
         'det_json_empty', ('empty',), slow=True),
    Case('train-det-json-annotations-null', 'train.py', train('det_json_null', DET_QS),
         'det_json_null', ('"annotations" is null',), slow=True),
    Case('train-det-file-name-escapes', 'train.py', train('det_file_escape', DET_QS),
         'det_file_escape', ("'../outside.jpg'", "'..'"), slow=True),
    Case('train-pan-json-truncated', 'train.py', train('pan_json_truncated', PAN_QS),
         'pan_json_truncated', ('not valid JSON',), slow=True),
    Case('train-pan-png-name-escapes', 'train.py', train('pan_png_escape', PAN_QS),
         'pan_png_escape', ("'../x.png'",), slow=True),
    Case('train-cls-list-path-escapes', 'train.py',
         train('cls_list_escape', CLS_QS, length='train_cfg.max_epochs=3'),
         'cls_list_escape', ("'../outside.JPEG'", 'line 1'), slow=True),
]
# fmt: on
CONVERTER = Case('convert-nyu-scene-name-escapes', NYU, None, '', ("'../../../../escaped'",))


def _clean(ws):
    for path in (ws['p']('runs'),):
        if osp.isdir(path):
            shutil.rmtree(path)


def _run(case, ws, args, culprit):
    _clean(ws)
    before = tree_digest(ws['t'])
    status, _, err = run_tool(case.tool, args, cwd=ws['t'])
    lines = [line for line in err.splitlines() if line.strip()]
    print(f'MATRIX|{case.id}|{status}|{lines[-1] if lines else ""}')
    assert status == 2, f'{case.id}: exit {status}\n{err[-3000:]}'
    assert 'Traceback' not in err, err[-3000:]
    assert lines[-1].startswith('error: ') and sum(x.startswith('error: ') for x in lines) == 1
    for text in (culprit, *case.texts):
        assert text in lines[-1], (text, lines[-1])
    _clean(ws)
    if tree_digest(ws['t']) != before:
        newer = subprocess.run(['find', ws['t'], '-newer', ws['p']('seg.py')], capture_output=True)
        raise AssertionError(f'{case.id} changed files that existed before: {newer.stdout}')


@pytest.mark.parametrize(
    'case', [pytest.param(c, id=c.id, marks=[pytest.mark.slow] if c.slow else []) for c in CASES]
)
def test_bad_data(case, ws):
    _run(case, ws, case.args(ws), ws['bad'][case.fault])


def test_converter_scene_name_leaving_the_output(ws):
    mat = ws['p']('labeled.mat')
    _run(CONVERTER, ws, [mat, ws['p']('runs', 'nyu')], mat)
    assert not [f for f in os.listdir(ws['t']) if f.startswith('escaped')]
