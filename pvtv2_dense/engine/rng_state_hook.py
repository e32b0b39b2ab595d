"""Save torch's random state in checkpoints so a resumed run continues the same random stream.

mmengine re-seeds on resume and replays the skipped batches (so data augmentation, which draws from
numpy/random, lines up), but dropout and drop-path draw from torch's generator, which then restarts
from the seed: a resumed run would diverge from an uninterrupted one. This hook is in the default
runtimes of every config here (and ``tools/train.py`` adds it to configs that lack it), so any
Runner user resumes exactly: with ``num_workers=0`` and deterministic mode, a resumed run ends
with the weights of an uninterrupted one.
"""

import torch
from mmengine.hooks import Hook

from ..registry import register_hook


@register_hook()
class TorchRNGStateHook(Hook):
    """Store torch's CPU (and CUDA) generator states in checkpoints and restore them on resume."""

    priority = 'VERY_LOW'
    KEY = 'torch_rng_state'

    def before_save_checkpoint(self, runner, checkpoint):
        state = dict(cpu=torch.get_rng_state())
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            state['cuda'] = torch.cuda.get_rng_state_all()
        checkpoint[self.KEY] = state

    def after_load_checkpoint(self, runner, checkpoint):
        # Only a resume continues the stream; loading weights for fine-tuning does not.
        state = checkpoint.get(self.KEY)
        if state is None or not runner._resume:
            return
        torch.set_rng_state(state['cpu'])
        cuda = state.get('cuda')
        if (
            cuda is not None
            and torch.cuda.is_available()
            and len(cuda) == torch.cuda.device_count()
        ):
            torch.cuda.set_rng_state_all(cuda)
