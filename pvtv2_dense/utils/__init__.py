from .checkpoint_safety import (
    UnsafeCheckpointError,
    install_safe_checkpoint_loading,
    load_from_local_safely,
)

__all__ = ['UnsafeCheckpointError', 'install_safe_checkpoint_loading', 'load_from_local_safely']
