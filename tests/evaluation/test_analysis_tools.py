"""The diagnostic tools as a user runs them: a config and a saved results file in, the files
out, one `error:` line and exit status 2 for an output folder in use or a results file of
the wrong task."""

import json
import os.path as osp

import pytest

from tests.helpers.analysis import is_png, planted_det_results
from tests.helpers.detection import DET_QUICKSTART
from tests.helpers.tools import load_tool


@pytest.fixture(scope='module')
def det(tmp_path_factory):
    return planted_det_results(str(tmp_path_factory.mktemp('det')))


def _run(tool, argv, capsys):
    code = 0
    try:
        load_tool(f'tools/analysis_tools/{tool}.py').main(argv)
    except SystemExit as e:
        code = e.code
    return code, capsys.readouterr()


@pytest.mark.parametrize(
    'tool, files',
    [
        ('confusion_matrix', ['confusion_matrix.png', 'confusion_matrix.csv']),
        ('per_class_metrics', ['per_class_ap.png', 'per_class_ap.csv']),
        ('analyze_results', ['worst_images.json']),
        ('coco_error_analysis', ['coco_errors.png', 'coco_errors.json']),
    ],
)
def test_detection_tools_write_their_files(det, tool, files, tmp_path, capsys):
    results, ann_file, _, _ = det
    argv = [DET_QUICKSTART, results, str(tmp_path / 'out')]
    if tool in ('per_class_metrics', 'coco_error_analysis'):
        argv += ['--ann-file', ann_file]
    code, out = _run(tool, argv, capsys)
    assert code == 0, out.err
    for name in files:
        path = str(tmp_path / 'out' / name)
        assert is_png(path) if name.endswith('.png') else osp.getsize(path) > 0, name
    # Again into the same folder: refused unless --overwrite.
    code, out = _run(tool, argv, capsys)
    assert code == 2 and out.err.startswith('error: out_dir') and '--overwrite' in out.err
    assert _run(tool, [*argv, '--overwrite'], capsys)[0] == 0


def test_wrong_task_and_logs(det, tmp_path, capsys):
    code, out = _run('depth_error_by_range', [det[0], str(tmp_path / 'd')], capsys)
    assert code == 2 and "no 'pred_depth_map'" in out.err
    vis = tmp_path / 'run' / '20260101_000000' / 'vis_data'
    vis.mkdir(parents=True)
    (vis / 'scalars.json').write_text(json.dumps(dict(lr=0.1, loss=1.0, step=1)) + '\n')
    argv = [str(tmp_path / 'run'), '--out-dir', str(tmp_path / 'c')]
    code, out = _run('analyze_logs', argv, capsys)
    assert code == 0 and is_png(str(tmp_path / 'c' / 'curves.png'))
