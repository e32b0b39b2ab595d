"""Tools stay thin: argument parsing and one call into the package (issue 34). A tool that
grows past the limit has logic that belongs in the package, where it is tested."""

import os.path as osp
from glob import glob

from tests.helpers.common import ROOT

MAX_LINES = 200


def test_no_tool_exceeds_the_line_limit():
    tools = sorted(glob(osp.join(ROOT, 'tools', '**', '*.py'), recursive=True))
    assert len(tools) > 20  # the glob finds the tools
    long = {
        osp.relpath(path, ROOT): n
        for path in tools
        if (n := sum(1 for _ in open(path, encoding='utf-8'))) > MAX_LINES
    }
    assert not long, f'tools over {MAX_LINES} lines (move their logic into the package): {long}'
