"""One-line user errors for ``tools/``.

Mistakes a user makes on the command line (a config path that does not exist, a ``--cfg-options``
key that is not in the config, a checkpoint made for another model) end the tool with one
``error: ...`` line and exit status 2, instead of a traceback from deep inside mmengine.
"""

import functools
import sys

EXIT_USER_ERROR = 2


class CLIError(Exception):
    """A user error to report as one ``error: ...`` line (no traceback)."""


def cli_entry(main):
    """Decorate a tool's ``main``: a :class:`CLIError` becomes one line on stderr and exit 2."""

    @functools.wraps(main)
    def wrapper(*args, **kwargs):
        try:
            return main(*args, **kwargs)
        except CLIError as err:
            print(f'error: {err}', file=sys.stderr)
            sys.exit(EXIT_USER_ERROR)

    return wrapper


def one_line(err):
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__
