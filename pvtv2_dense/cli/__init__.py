"""Command-line plumbing shared by ``tools/``: the argument parser, errors, config loading and
the launcher environment. The checkpoint checks and output helpers the tools use are re-exported
from the library (``pvtv2_dense.checkpoint``, ``pvtv2_dense.fileio``), which never imports this
package."""

from ..checkpoint.fit import check_checkpoint, check_finite, read_checkpoint, unwrap_model
from ..fileio.outputs import (
    atomic_output,
    check_run_dir,
    check_writable,
    refuse_overwrite,
    replace_path,
    save_torch_atomically,
)
from .args import ToolParser
from .config import (
    add_compile_arg,
    apply_compile_arg,
    check_cfg_options,
    default_work_dir,
    load_config,
)
from .dist_env import adapt_for_cpu, check_launcher_env, finish_distributed
from .errors import EXIT_USER_ERROR, CLIError, cli_entry, input_error_message, one_line
from .run_checks import check_test_config
from .training import check_train_inputs, training_run

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
    'check_finite',
    'check_launcher_env',
    'finish_distributed',
    'check_test_config',
    'check_train_inputs',
    'check_writable',
    'cli_entry',
    'default_work_dir',
    'input_error_message',
    'load_config',
    'one_line',
    'read_checkpoint',
    'refuse_overwrite',
    'replace_path',
    'save_torch_atomically',
    'training_run',
    'unwrap_model',
]
