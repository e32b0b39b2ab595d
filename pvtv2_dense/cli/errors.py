"""One error path for ``tools/``: a user's input error ends the tool with one ``error: ...`` line
and exit status 2; an unexpected (internal) error keeps its traceback and exits 1.

Input errors are every :class:`pvtv2_dense.errors.InputError` (bad config values, data files and
checkpoints raise subclasses of it; :class:`CLIError` for the tools' own checks and the usage
errors of :class:`~pvtv2_dense.cli.args.ToolParser`), and three errors of mmengine's builds that
only a config causes (``pvtv2_dense.cli.build_errors``): the registry's ``KeyError`` for an
unknown ``type=``, a ``TypeError`` for an option the built class does not take or needs, and a
``FileNotFoundError`` raised while building what the config describes (a metric's annotation
file, say). Library code raises; only :func:`cli_entry` formats. ``--debug`` anywhere on the
command line, or ``PVTV2_DEBUG=1`` in the environment, prints their traceback too.
"""

import functools
import os
import sys
import traceback

from ..errors import InputError
from .build_errors import bad_option, missing_file, unknown_type

EXIT_USER_ERROR = 2
DEBUG_FLAG = '--debug'
DEBUG_ENV = 'PVTV2_DEBUG'


class CLIError(InputError):
    """A user error to report as one ``error: ...`` line (no traceback)."""


def one_line(err):
    """The first line of an exception's message (its class name when it has none)."""
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__


def _flatten(text):
    """Several message lines as one: ``'a:\\n  b\\n  c'`` -> ``'a: b; c'``."""
    lines = [line.strip() for line in str(text).strip().splitlines() if line.strip()]
    out = lines[0] if lines else ''
    for line in lines[1:]:
        out += (' ' if out.endswith(':') else '; ') + line
    return out


def _from_worker(text, cls):
    """The original message of an exception torch's DataLoader re-raised from a worker (its
    text is then 'Caught X in DataLoader worker ...' plus the worker's whole traceback)."""
    if not text.startswith('Caught ') or 'Original Traceback' not in text:
        return text
    lines = text.splitlines()
    heads = (f'{cls.__module__}.{cls.__qualname__}: ', f'{cls.__qualname__}: ')
    for i in range(len(lines) - 1, -1, -1):
        for head in heads:
            if lines[i].startswith(head):
                return '\n'.join([lines[i][len(head) :], *lines[i + 1 :]])
    return lines[-1]


def input_error_message(err):
    """The one-line message for ``err`` when it is the user's input error, else None."""
    if isinstance(err, FileNotFoundError):
        return missing_file(err)
    if isinstance(err, InputError):
        return _flatten(_from_worker(str(err), type(err)))
    if isinstance(err, KeyError):
        return unknown_type(err)
    if isinstance(err, TypeError):
        return bad_option(err)
    return None


def debug_requested(argv):
    """Whether ``--debug`` is in ``argv`` or ``PVTV2_DEBUG`` is set (to anything but 0)."""
    return DEBUG_FLAG in argv or os.environ.get(DEBUG_ENV, '0') not in ('', '0')


def cli_entry(main):
    """Decorate a tool's ``main``: any input error becomes one ``error: ...`` line on stderr and
    exit status 2 (see the module docstring); ``--debug`` is taken out of the arguments.

    ``main`` is called as ``main(argv)`` when the wrapper gets an ``argv`` (tests), else as
    ``main()`` with ``sys.argv`` cleaned, so tools that parse ``sys.argv`` themselves work too.
    """

    @functools.wraps(main)
    def wrapper(argv=None, *args, **kwargs):
        given = list(sys.argv[1:] if argv is None else argv)
        debug = debug_requested(given)
        cleaned = [a for a in given if a != DEBUG_FLAG]
        try:
            if argv is None:
                sys.argv[1:] = cleaned
                return main(*args, **kwargs)
            return main(cleaned, *args, **kwargs)
        except (InputError, KeyError, TypeError, FileNotFoundError) as err:
            message = input_error_message(err)
            if message is None:
                raise
            if debug:
                traceback.print_exc()
            print(f'error: {message}', file=sys.stderr)
            sys.exit(EXIT_USER_ERROR)

    return wrapper
