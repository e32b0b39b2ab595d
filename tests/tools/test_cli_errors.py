"""The one error path of ``tools/`` (``pvtv2_dense.cli.cli_entry``), in process: which errors
become one ``error: ...`` line with exit status 2, which keep their traceback, and how
DataLoader-worker messages are shortened. ``tests/tools/test_bad_inputs.py`` runs the tools;
``tests/tools/test_mmengine_build_errors.py`` pins the mmengine behaviours the messages use."""

import argparse
import ast
import glob
import os.path as osp

import pytest
from mmengine.registry import METRICS, MODELS, init_default_scope

from pvtv2_dense.cli import EXIT_USER_ERROR, CLIError, ToolParser, cli_entry, input_error_message
from pvtv2_dense.datasets.seg_checked import SegDataError
from pvtv2_dense.errors import CheckpointError, ConfigError, DataError, InputError
from tests.helpers.common import ROOT


def _tool(exc):
    @cli_entry
    def main(argv=None):
        parser = ToolParser(prog='tool.py')
        parser.add_argument('--mode', choices=['infer', 'train'], default='infer')
        parser.parse_args(argv)
        if exc is not None:
            raise exc

    return main


def _run(main, argv, capsys):
    with pytest.raises(SystemExit) as done:
        main(argv)
    return done.value.code, capsys.readouterr().err


@pytest.mark.parametrize('cls', [CLIError, ConfigError, DataError, CheckpointError, SegDataError])
def test_input_errors_are_one_line_exit_2(cls, capsys, monkeypatch):
    monkeypatch.delenv('PVTV2_DEBUG', raising=False)
    code, err = _run(_tool(cls('checkpoint a.pth is empty (0 bytes)')), [], capsys)
    assert code == EXIT_USER_ERROR
    assert err == 'error: checkpoint a.pth is empty (0 bytes)\n'


def test_library_errors_join_the_hierarchy():
    from pvtv2_dense.checkpoint.safety import UnsafeCheckpointError
    from pvtv2_dense.datasets import AnnotationError
    from pvtv2_dense.datasets.transforms.depth_loading import DepthAnnotationError

    for cls in (SegDataError, AnnotationError, DepthAnnotationError):
        assert issubclass(cls, DataError)
    assert issubclass(UnsafeCheckpointError, CheckpointError)
    assert issubclass(CLIError, InputError) and issubclass(InputError, ValueError)


@pytest.mark.parametrize('how', ['flag', 'env'])
def test_debug_shows_the_traceback_too(how, capsys, monkeypatch):
    monkeypatch.delenv('PVTV2_DEBUG', raising=False)
    argv = ['--debug'] if how == 'flag' else []
    if how == 'env':
        monkeypatch.setenv('PVTV2_DEBUG', '1')
    code, err = _run(_tool(ConfigError('model.backbone.arch: bad')), argv, capsys)
    assert code == EXIT_USER_ERROR
    assert err.startswith('Traceback (most recent call last)')
    assert err.splitlines()[-1] == 'error: model.backbone.arch: bad'


@pytest.mark.parametrize(
    'exc',
    [
        RuntimeError('internal'),
        KeyError('missing'),
        TypeError('unsupported operand'),
        FileNotFoundError(2, 'No such file or directory', 'cache.bin'),  # not from a config
    ],
)
def test_internal_errors_keep_their_traceback(exc, capsys):
    """Not the user's fault: the exception propagates (Python prints it and exits 1)."""
    with pytest.raises(type(exc)):
        _tool(exc)([])
    assert 'error:' not in capsys.readouterr().err


def test_argparse_errors_are_one_line_with_a_suggestion(capsys):
    code, err = _run(_tool(None), ['--mode', 'inference'], capsys)
    assert code == EXIT_USER_ERROR
    assert err == (
        "error: argument --mode: invalid choice: 'inference' (choose from 'infer', 'train') "
        "(did you mean 'infer'?) (see tool.py --help)\n"
    )
    code, err = _run(_tool(None), ['--bogus'], capsys)
    assert (code, err) == (2, 'error: unrecognized arguments: --bogus (see tool.py --help)\n')


def test_argparse_is_left_as_it_is(capsys):
    """Only the tools' own parsers raise: a plain argparse parser still prints and exits, also
    inside ``cli_entry`` (nothing is patched process-wide)."""
    original = argparse.ArgumentParser.error

    @cli_entry
    def main(argv=None):
        assert argparse.ArgumentParser.error is original
        argparse.ArgumentParser(prog='other.py').parse_args(argv)

    with pytest.raises(SystemExit) as done:
        main(['--bogus'])
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith('usage: other.py') and 'other.py: error: unrecognized' in err


def test_every_tool_parses_with_tool_parser():
    """A tool that built a plain ``argparse.ArgumentParser`` would print usage and exit on a bad
    argument instead of the one ``error:`` line."""
    plain = []
    for path in glob.glob(osp.join(ROOT, 'tools', '**', '*.py'), recursive=True):
        with open(path) as f:
            tree = ast.parse(f.read(), path)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = getattr(node.func, 'attr', None) or getattr(node.func, 'id', None)
                if name == 'ArgumentParser':
                    plain.append(f'{osp.relpath(path, ROOT)}:{node.lineno}')
    assert not plain, f'use pvtv2_dense.cli.ToolParser: {plain}'


def test_worker_errors_keep_the_original_message():
    text = (
        'Caught SegDataError in DataLoader worker process 1.\n'
        'Original Traceback (most recent call last):\n'
        '  File "x.py", line 3, in f\n'
        '    raise SegDataError(...)\n'
        'pvtv2_dense.datasets.seg_checked.SegDataError: annotation a.png is 32x32 (HxW)'
    )
    assert input_error_message(SegDataError(text)) == 'annotation a.png is 32x32 (HxW)'


def test_multi_line_messages_become_one_line():
    text = 'checkpoint a.pth does not fit:\n  checkpoint: b0\n  config: b2'
    assert input_error_message(CheckpointError(text)) == (
        'checkpoint a.pth does not fit: checkpoint: b0; config: b2'
    )


def test_unknown_type_and_option_in_a_config():
    init_default_scope('mmseg')
    with pytest.raises(KeyError) as unknown:
        MODELS.build(dict(type='PVTV2'))
    assert "type='PVTV2' is not a registered model (did you mean 'PVTv2'?)" in (
        input_error_message(unknown.value)
    )
    with pytest.raises(TypeError) as option:
        MODELS.build(
            dict(type='AllMLPHead', in_channels=[8, 16, 32, 32], channels=16, num_classes=3, fo=1)
        )
    message = input_error_message(option.value)
    # The option reached the base class through **kwargs: both are named.
    assert message == "config: BaseDecodeHead (built for type='AllMLPHead') takes no option 'fo'"
    assert input_error_message(TypeError('unsupported operand')) is None


def test_a_file_a_config_names_that_does_not_exist(tmp_path):
    init_default_scope('mmdet')
    missing = str(tmp_path / 'panoptic_val2017.json')
    with pytest.raises(FileNotFoundError) as found:
        METRICS.build(dict(type='CocoPanopticMetric', ann_file=missing, seg_prefix=str(tmp_path)))
    assert input_error_message(found.value) == (
        f'config: CocoPanopticMetric needs {missing}, which does not exist; check its paths'
    )


@pytest.mark.parametrize(
    'err',
    [
        PermissionError(13, 'Permission denied', '/x'),
        IsADirectoryError(21, 'Is a directory', '/y'),
        OSError('boom'),
    ],
    ids=['permission', 'is-a-directory', 'plain'],
)
def test_os_errors_outside_input_and_output_checks_keep_their_traceback(err, monkeypatch):
    # Where a tool reads input or writes output it raises an InputError naming the path; an
    # OSError that reaches cli_entry is a bug, and must not look like the user's mistake.
    monkeypatch.delenv('PVTV2_DEBUG', raising=False)
    with pytest.raises(type(err)):
        _tool(err)([])
