"""Bad-input rows for the PVTv2 spec and the implementation registry: each value outside its
domain stops ``tools/train.py`` with exit 2 and one ``error:`` line naming the key (issue 33
item 5: ``drop_path_rate=2`` was accepted), and nothing that existed before changes (runs write
under ``runs/`` only, as in ``test_bad_inputs.py``)."""

import shutil

import pytest

from tests.helpers.bad_input_workspace import build_workspace, run_tool
from tests.helpers.common import tree_digest

# (id, --cfg-options, texts of the error line)
ROWS = [
    ('drop-path-2', 'model.backbone.drop_path_rate=2', ['drop_path_rate=2', '[0, 1)']),
    ('drop-path-negative', 'model.backbone.drop_path_rate=-0.1', ['drop_path_rate=-0.1']),
    ('depth-zero', 'model.backbone.depths=[2,0,2,2]', ['depths[1]=0', 'integer >= 1']),
    ('sr-ratio-zero', 'model.backbone.sr_ratios=[8,4,2,0]', ['sr_ratios[3]=0']),
    ('heads-not-dividing', 'model.backbone.num_attention_heads=[1,2,5,7]', ['not a multiple']),
    ('eps-zero', 'model.backbone.layer_norm_eps=0', ['layer_norm_eps=0']),
    ('attn-impl-typo', 'model.backbone.attn_impl=fewkey', ["attn_impl='fewkey'", 'few_key']),
    ('ffn-impl-typo', 'model.backbone.ffn_impl=band', ["ffn_impl='band'", 'banded']),
]


@pytest.fixture(scope='module')
def ws(tmp_path_factory):
    return build_workspace(str(tmp_path_factory.mktemp('bad_inputs_arch')))


@pytest.mark.parametrize('option, expect', [r[1:] for r in ROWS], ids=[r[0] for r in ROWS])
def test_bad_architecture_value(ws, option, expect):
    shutil.rmtree(ws['p']('runs'), ignore_errors=True)
    before = tree_digest(ws['t'])
    args = [ws['p']('seg.py'), '--work-dir', ws['p']('runs', 'arch'), '--cfg-options', option]
    status, _, err = run_tool('train.py', args, cwd=ws['t'])
    lines = [line for line in err.splitlines() if line.strip()]
    assert status == 2, err[-3000:]
    assert 'Traceback' not in err and lines[-1].startswith('error: '), err[-3000:]
    assert sum(line.startswith('error: ') for line in lines) == 1, lines
    for text in expect:
        assert text in lines[-1], lines[-1]
    shutil.rmtree(ws['p']('runs'), ignore_errors=True)
    assert tree_digest(ws['t']) == before
