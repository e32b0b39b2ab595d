"""Command-line plumbing shared by ``tools/``: the argument parser, errors, config loading,
checkpoint checks and the launcher environment."""

from .args import ToolParser
from .checkpoints import check_checkpoint, read_checkpoint, unwrap_model
from .config import (
    add_compile_arg,
    apply_compile_arg,
    check_cfg_options,
    default_work_dir,
    load_config,
)
from .dist_env import adapt_for_cpu
from .errors import EXIT_USER_ERROR, CLIError, cli_entry, input_error_message, one_line
from .outputs import (
    atomic_output,
    check_run_dir,
    refuse_overwrite,
    save_torch_atomically,
)

__all__ = [
    'EXIT_USER_ERROR',
    'CLIError',
    'ToolParser',
    'adapt_for_cpu',
    'add_compile_arg',
    'apply_compile_arg',
    'atomic_output',
    'check_run_dir',
    'check_cfg_options',
    'check_checkpoint',
    'cli_entry',
    'default_work_dir',
    'input_error_message',
    'load_config',
    'one_line',
    'read_checkpoint',
    'refuse_overwrite',
    'save_torch_atomically',
    'unwrap_model',
]
