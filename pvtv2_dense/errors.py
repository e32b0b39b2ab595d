"""Errors in what a user gave: a config value, a file, a command-line argument.

They subclass ``ValueError`` (what they are), and the tools in ``tools/`` report any of them as
one ``error: ...`` line with exit status 2, where an unexpected error keeps its traceback
(``pvtv2_dense.cli.cli_entry``). Subclasses of the data and checkpoint errors (``SegDataError``,
``AnnotationError``, ``DepthAnnotationError``, ``UnsafeCheckpointError``) live beside the code
that raises them. Library code raises these, never ``pvtv2_dense.cli``'s ``CLIError``.
"""

import difflib


class InputError(ValueError):
    """Something a user gave is not what was expected; the message names it."""


class ConfigError(InputError):
    """A config key or value (a model option, a dataset setting) is wrong."""


class DataError(InputError):
    """An image, annotation or dataset layout is wrong; the message names the file."""


class CheckpointError(InputError):
    """A checkpoint file is missing, unreadable, unsafe or does not fit the model."""


def did_you_mean(word, choices, cutoff: float = 0.6) -> str:
    """`` (did you mean 'x'?)`` for the choice closest to ``word``, or '' when none is close.

    Args:
        word: what the user wrote.
        choices: the accepted names.
        cutoff (float): the least ``difflib`` similarity of a hint (short names such as presets
            need a lower one).
    """
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=cutoff)
    return f" (did you mean '{close[0]}'?)" if close else ''


class OutputError(InputError):
    """An output path would write over what a user made (or an earlier run left)."""


class ExportError(InputError):
    """A model has no counterpart in an export format, or its export does not reproduce it."""
