"""Stop training at the first non-finite loss.

With too high a learning rate a run goes on with loss NaN and saves NaN checkpoints. This hook
checks the loss of every iteration, before the checkpoint hook (lower priority) can save, and
stops the run with one line naming the iteration; the latest checkpoint stays the last good one.
``tools/train.py`` adds it to every config.
"""

import math

import torch
from mmengine.hooks import Hook

from ..errors import ConfigError
from ..registry import register_hook

# What a diverged run's message advises.
ADVICE = (
    'lower the learning rate (optim_wrapper.optimizer.lr) or clip gradients '
    '(optim_wrapper.clip_grad)'
)


def _value(loss):
    if torch.is_tensor(loss):
        return float(loss.detach().float().sum())
    return float(loss)


@register_hook()
class FiniteLossHook(Hook):
    """Raise :class:`ConfigError` when an iteration's loss (``outputs['loss']``) is NaN or inf."""

    priority = 'NORMAL'  # before the checkpoint hook (VERY_LOW) saves this iteration

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        if not isinstance(outputs, dict) or 'loss' not in outputs:
            return
        loss = _value(outputs['loss'])
        if math.isfinite(loss):
            return
        parts = ', '.join(
            f'{k}={_value(v):.4g}' for k, v in outputs.items() if k != 'loss' and 'loss' in k
        )
        last = runner.message_hub.get_info('last_ckpt')
        raise ConfigError(
            f'iteration {runner.iter + 1}: the loss is {loss}, not finite'
            + (f' ({parts})' if parts else '')
            + f'; training stopped, the latest checkpoint stays {last or "none (none saved yet)"}; '
            + ADVICE
        )
