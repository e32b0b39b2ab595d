"""One error path for ``tools/``: a user's input error ends the tool with one ``error: ...`` line
and exit status 2; an unexpected (internal) error keeps its traceback and exits 1.

Input errors are :class:`CLIError`, every :class:`pvtv2_dense.errors.InputError` (bad config
values, data files and checkpoints raise subclasses of it), argparse usage errors, and the two
library errors that only a config causes: mmengine's registry ``KeyError`` for an unknown
``type=``, a ``TypeError`` for an option the built class does not take, and a
``FileNotFoundError`` raised while building what the config describes (a metric's annotation
file, say). ``--debug`` anywhere on
the command line, or ``PVTV2_DEBUG=1`` in the environment, prints their traceback too.
"""

import argparse
import contextlib
import difflib
import functools
import inspect
import os
import re
import sys
import traceback

from ..errors import InputError

EXIT_USER_ERROR = 2
DEBUG_FLAG = '--debug'
DEBUG_ENV = 'PVTV2_DEBUG'
_BUILD_FILE = ('mmengine', 'registry', 'build_functions.py')
# Older mmengine/mmcv re-raise a failed build as type(e)(f'class `X` in module: {e}').
_BUILD_PREFIX = re.compile(r'class `(\w+)` in [\w./]+: ')
_NOT_REGISTERED = re.compile(r"^'?(\S+) is not in the (?:[\w.]+::)?(\w+) registry")
_BAD_KWARG = re.compile(r"(?:(\w+)\.)?__init__\(\) got an unexpected keyword argument '(\w+)'")
# argparse: "argument --archs: invalid choice: 'b9' (choose from 'b0', 'b1')".
_BAD_CHOICE = re.compile(r"invalid choice: '([^']*)' \(choose from (.*)\)")
_CHOICE = re.compile(r"'([^']*)'")
_MISSING_ARG = re.compile(r'(?:(\w+)\.)?__init__\(\) missing \d+ required \w+ arguments?: (.+)$')


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


def _without_build_prefixes(text):
    """``class `A` in m: class `B` in m: B: msg`` -> ``A > B: msg`` (each class named once)."""
    names = _BUILD_PREFIX.findall(text)
    if not names:
        return text
    rest = _BUILD_PREFIX.sub('', text)
    if rest.startswith(f'{names[-1]}:'):
        rest = rest[len(names[-1]) + 1 :].lstrip()
    return f'{" > ".join(names)}: {rest}'


def _build_frame(err):
    """Locals of the innermost mmengine ``build_from_cfg`` call the error passed through."""
    found = None
    for frame, _ in traceback.walk_tb(err.__traceback__):
        parts = frame.f_code.co_filename.replace('\\', '/').split('/')
        if tuple(parts[-3:]) == _BUILD_FILE and frame.f_code.co_name == 'build_from_cfg':
            found = frame.f_locals
    return found


def _did_you_mean(word, choices):
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ''


def _unknown_type(err):
    """mmengine's ``KeyError: 'X is not in the mmseg::model registry. Please check ...'``."""
    match = _NOT_REGISTERED.match(str(err.args[0]) if err.args else '')
    if not match:
        return None
    name, kind = match.groups()
    found = _build_frame(err) or {}
    registry, known = found.get('registry'), set()
    while registry is not None:
        known |= set(registry.module_dict)
        registry = registry.parent
    return (
        f"config: type='{name}' is not a registered {kind}{_did_you_mean(name, known)}; "
        'check the spelling, or the custom_imports that register it'
    )


def _bad_option(err):
    """A ``TypeError`` for an option the class a config builds does not take."""
    found = _build_frame(err)
    text = str(err)
    bad, missing = _BAD_KWARG.search(text), _MISSING_ARG.search(text)
    if found is None or not (bad or missing):
        return None
    built = getattr(found.get('obj_cls'), '__name__', None) or str(found.get('obj_type'))
    cls = (bad or missing).group(1) or built
    where = f'{cls} (built for type={built!r})' if cls != built else cls
    if missing:
        return f'config: {where} needs option(s) {missing.group(2)}, which the config lacks'
    key = bad.group(2)
    target = found.get('obj_cls')
    try:
        params = [p for p in inspect.signature(target).parameters if p not in ('args', 'kwargs')]
    except (TypeError, ValueError):
        params = []
    listed = f'; it takes: {", ".join(params)}' if params and cls == built else ''
    return f'config: {where} takes no option {key!r}{_did_you_mean(key, params)}{listed}'


def _missing_file(err):
    """A file a config names (an annotation file, a prefix) that does not exist, found while
    building what the config describes (a dataset, a metric)."""
    found = _build_frame(err)
    if found is None or not err.filename:
        return None
    built = getattr(found.get('obj_cls'), '__name__', None) or str(found.get('obj_type'))
    return f'config: {built} needs {err.filename}, which does not exist; check its paths'


def input_error_message(err):
    """The one-line message for ``err`` when it is the user's input error, else None."""
    if isinstance(err, FileNotFoundError):
        return _missing_file(err)
    if isinstance(err, InputError):
        return _flatten(_without_build_prefixes(_from_worker(str(err), type(err))))
    if isinstance(err, KeyError):
        return _unknown_type(err)
    if isinstance(err, TypeError):
        return _bad_option(err)
    return None


def _argparse_error(parser, message):
    choice = _BAD_CHOICE.search(message)
    hint = _did_you_mean(choice.group(1), _CHOICE.findall(choice.group(2))) if choice else ''
    raise CLIError(f'{message}{hint} (see {parser.prog} --help)')


@contextlib.contextmanager
def _usage_errors_raise():
    """argparse prints its usage and ``prog: error: ...`` (two lines or more); raise instead so
    that a bad argument is reported like every other input error."""
    saved = argparse.ArgumentParser.error
    argparse.ArgumentParser.error = _argparse_error
    try:
        yield
    finally:
        argparse.ArgumentParser.error = saved


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
            with _usage_errors_raise():
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
