"""Files the package writes: outputs finished under a temporary name, and refusals to write
over what a user made."""

from .outputs import (
    atomic_output,
    check_run_dir,
    existing_run,
    refuse_overwrite,
    replace_path,
    save_torch_atomically,
)

__all__ = [
    'atomic_output',
    'check_run_dir',
    'existing_run',
    'refuse_overwrite',
    'replace_path',
    'save_torch_atomically',
]
