"""The argument parser of every tool in ``tools/``: a usage error is raised as a
:class:`CLIError`, which ``cli_entry`` reports as one ``error: ...`` line with exit status 2.

argparse itself prints the usage and ``prog: error: ...`` (two lines or more) and exits; its
``exit_on_error=False`` covers only some errors (not unrecognized or missing arguments on
Python 3.11), so the parser overrides ``error``, argparse's one documented way to change it.
"""

import argparse
import re

from ..errors import did_you_mean
from .errors import CLIError

# argparse: "argument --archs: invalid choice: 'b9' (choose from 'b0', 'b1')" (newer Pythons
# list the choices without quotes).
_BAD_CHOICE = re.compile(r"invalid choice: '([^']*)' \(choose from (.*)\)")


class ToolParser(argparse.ArgumentParser):
    """``argparse.ArgumentParser`` whose usage errors raise :class:`CLIError` (a mistyped
    choice gets a "did you mean"); sub-parsers made from it are ``ToolParser`` too."""

    def error(self, message):
        choice = _BAD_CHOICE.search(message)
        hint = ''
        if choice:
            choices = [c.strip().strip("'") for c in choice.group(2).split(',')]
            hint = did_you_mean(choice.group(1), choices)
        raise CLIError(f'{message}{hint} (see {self.prog} --help)')

    def add_cfg_options(self, help=None):
        """The ``--cfg-options KEY=VALUE ...`` every config-reading tool takes (mmengine's
        ``DictAction``; ``load_config`` applies them).

        Args:
            help (str, optional): the help text, when a tool has a more specific one.
        """
        from mmengine.config import DictAction

        self.add_argument(
            '--cfg-options',
            nargs='+',
            action=DictAction,
            help=help or 'override config keys; the parent of each key must exist in the config',
        )
