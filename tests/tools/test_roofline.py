"""tools/analysis_tools/roofline.py on b0 at a tiny size: the parts' multiply-adds add up to the
whole forward's, their exclusive times to no more than the whole's, and the table prints."""

import pytest
import torch
from torch import nn

from pvtv2_dense.benchmark import roofline
from pvtv2_dense.models import PVTv2
from tests.helpers.tools import load_tool


def test_parts_cover_the_backbone_once():
    model = PVTv2('b0')
    parts = roofline._parts(model)
    kinds = {p: [n for n, q in parts.items() if q == p] for p in roofline.PARTS}
    assert len(kinds['attention']) == len(kinds['FFN']) == len(kinds['depth-wise conv']) == 8
    assert len(kinds['patch embedding']) == 4
    # Block norms (2 per block), the stage norms, the patch embeddings' norms and the spatial
    # reductions' (the 6 blocks of the stages with sr_ratio > 1).
    assert len(kinds['norms']) == 2 * 8 + 4 + 4 + 6
    # A part inside another counts once: the attention's own norm is a norm, not attention.
    inclusive = {'a': 10, 'a.attn': 6, 'a.attn.norm': 1, 'a.mlp': 3, 'a.mlp.dwconv': 2}
    parts = {'a.attn': 'attention', 'a.attn.norm': 'norms', 'a.mlp': 'FFN'}
    parts['a.mlp.dwconv'] = 'depth-wise conv'
    totals = roofline._exclusive(inclusive, parts)
    assert totals == {
        'attention': 5,
        'norms': 1,
        'FFN': 1,
        'depth-wise conv': 2,
        'patch embedding': 0,
    }


def test_part_times_are_exclusive():
    model = nn.Sequential()
    model.add_module('attn', nn.Sequential())
    model.attn.add_module('norm', nn.LayerNorm(4))
    times = roofline.part_times(model, torch.randn(2, 4), repeat=2)
    assert times['attention'] >= 0 and times['norms'] > 0
    assert times['attention'] + times['norms'] <= times['whole'] * 1.01


@pytest.mark.parametrize('arch', ['b0'])
def test_tool_prints_the_table(arch, capsys):
    tool = load_tool('tools/analysis_tools/roofline.py')
    tool.main(['--archs', arch, '--size', '64', '--repeat', '1', '--matmul-sizes', '64'])
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith('# fp32 cpu') and 'roof' in out[0]
    rows = [r.split(' | ') for r in out if r.startswith(f'| {arch} | 64 |')]
    assert [r[2] for r in rows] == [*roofline.PARTS, 'rest', 'whole']
    gmacs = {r[2]: float(r[3]) for r in rows}
    assert gmacs['attention'] > 0 and gmacs['FFN'] > gmacs['depth-wise conv'] > 0
    assert sum(v for k, v in gmacs.items() if k != 'whole') == pytest.approx(
        gmacs['whole'], abs=0.004
    )
    shares = [int(r[5].rstrip('%')) for r in rows[:-1]]
    assert 95 <= sum(shares) <= 105 and rows[-1][5] == '100%'
