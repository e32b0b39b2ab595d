"""Errors in what a user gave: a config value, a file, a command-line argument.

They subclass ``ValueError`` (what they are), and the tools in ``tools/`` report any of them as
one ``error: ...`` line with exit status 2, where an unexpected error keeps its traceback
(``pvtv2_dense.cli.cli_entry``). Subclasses of the data and checkpoint errors (``SegDataError``,
``AnnotationError``, ``DepthAnnotationError``, ``UnsafeCheckpointError``) live beside the code
that raises them.
"""


class InputError(ValueError):
    """Something a user gave is not what was expected; the message names it."""


class ConfigError(InputError):
    """A config key or value (a model option, a dataset setting) is wrong."""


class DataError(InputError):
    """An image, annotation or dataset layout is wrong; the message names the file."""


class CheckpointError(InputError):
    """A checkpoint file is missing, unreadable, unsafe or does not fit the model."""
