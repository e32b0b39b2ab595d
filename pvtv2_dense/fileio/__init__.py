"""Files the package writes: outputs finished under a temporary name (fsync'd, renamed into
place), checks that an output can be written, refusals to write over what a user made, and the
one-run-per-work-dir lock."""

from .outputs import (
    atomic_output,
    check_run_dir,
    check_writable,
    existing_run,
    refuse_overwrite,
    replace_path,
    save_torch_atomically,
    stale_temps,
    write_text_atomically,
)
from .run_lock import RunLock

__all__ = [
    'RunLock',
    'atomic_output',
    'check_run_dir',
    'check_writable',
    'existing_run',
    'refuse_overwrite',
    'replace_path',
    'save_torch_atomically',
    'stale_temps',
    'write_text_atomically',
]
