"""Compile a model's networks with ``torch.compile`` for training and testing.

mmengine's own ``compile`` config key compiles the whole ``train_step``: the data preprocessor,
the loss bookkeeping and the optimizer step. With mmseg/mmdet models that recompiles on every
batch (dynamo guards on the data samples' file names and flags) until dynamo's recompile limit
makes it give up and run eagerly, it fails outright for optimizers whose parameter groups are
config dicts (``paramwise_cfg``), and ``Runner.test`` never compiles. This hook compiles only the
tensor-in, tensor-out parts (backbone, neck, heads), which see the same shapes every batch.
"""

from collections.abc import Sequence

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from torch import nn

from ..errors import ConfigError
from ..registry import register_hook

DEFAULT_MODULES = ('backbone', 'neck', 'decode_head', 'auxiliary_head')


@register_hook()
class TorchCompileHook(Hook):
    """Replace the ``forward`` of the model's networks by ``torch.compile``'d versions.

    ``forward`` itself is replaced (not just ``__call__``) because mmseg's heads call
    ``self.forward`` from ``loss`` and ``predict``. Parameter names, checkpoints and the outputs
    are unchanged. The first iterations (and the first validation) are slow while compiling.

    Args:
        modules (Sequence[str], optional): attribute names of the model to compile; a
            ``ModuleList`` (e.g. several auxiliary heads) compiles each entry. Defaults to the
            ones of ``('backbone', 'neck', 'decode_head', 'auxiliary_head')`` the model has.
        **compile_kwargs: passed to ``torch.compile`` (``backend``, ``mode``, ``dynamic``, ...).
    """

    # Last, after hooks that copy the model in before_run (EMA): a copy would keep calling
    # the original module's compiled forward.
    priority = 'LOWEST'

    def __init__(self, modules: Sequence[str] | None = None, **compile_kwargs):
        if isinstance(modules, str):
            modules = (modules,)
        self.modules = None if modules is None else tuple(modules)
        self.compile_kwargs = compile_kwargs

    def _targets(self, model):
        names = self.modules or [n for n in DEFAULT_MODULES if getattr(model, n, None) is not None]
        for name in names:
            module = getattr(model, name, None)
            if not isinstance(module, nn.Module):
                raise ConfigError(
                    f'TorchCompileHook: modules entry {name!r} is not a submodule of '
                    f'{type(model).__name__}; it has {sorted(n for n, _ in model.named_children())}'
                )
            yield from module if isinstance(module, nn.ModuleList) else [module]

    def compile(self, model: nn.Module) -> None:
        """Compile ``model``'s networks in place; modules compiled before are left as they are."""
        model = model.module if is_model_wrapper(model) else model
        for module in self._targets(model):
            if not getattr(module, '_forward_compiled', False):
                module.forward = torch.compile(module.forward, **self.compile_kwargs)
                module._forward_compiled = True

    def before_run(self, runner) -> None:
        # Runs for train, val and test alike; weights are loaded later, which compile ignores.
        self.compile(runner.model)
