"""Checkpoints that survive a kill at any instant.

mmengine's ``CheckpointHook`` removes the oldest checkpoint *before* writing the next one, and
writes it in place: with ``max_keep_ckpts=1`` a kill during the save leaves a half file and
nothing to resume. :class:`SafeCheckpointHook` keeps mmengine's options and file names and
changes the order of one save:

1. write the checkpoint under a temporary name in the same folder, fsync it, rename it into
   place (:func:`pvtv2_dense.fileio.atomic_output`);
2. point ``last_checkpoint`` at it (written the same way);
3. only then remove the checkpoints that ``max_keep_ckpts`` lets go (the checkpoint lists
   them, so a run resumed after a kill at this step removes them).

At every instant ``last_checkpoint`` names a complete file. The best checkpoint of
``save_best`` is written the same way, the previous best removed after it. The hook also refuses
to save weights that are not finite (the last good checkpoint stays the latest). Every shipped
config uses it, and ``tools/train.py`` swaps mmengine's hook for it in any other config.
"""

import os
import os.path as osp

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook

from ..checkpoint.fit import first_non_finite
from ..errors import ConfigError
from ..fileio.outputs import atomic_output, stale_temps, write_text_atomically
from ..registry import register_hook
from .finite_loss_hook import ADVICE

NAME = 'SafeCheckpointHook'
# message_hub key: checkpoints a save lets go, removed after it (or by the run that resumes it).
PENDING = 'release_ckpt_ids'


def use_safe_checkpoint_hook(cfg):
    """Make ``cfg``'s checkpoint hook a :class:`SafeCheckpointHook` (in place) when it is
    mmengine's plain ``CheckpointHook``; other (custom) hook types are left alone.

    Returns:
        bool: whether the config was changed.
    """
    hook = (cfg.get('default_hooks') or {}).get('checkpoint')
    if not isinstance(hook, dict) or hook.get('type') not in ('CheckpointHook', CheckpointHook):
        return False
    hook['type'] = NAME
    return True


@register_hook()
class SafeCheckpointHook(CheckpointHook):
    """mmengine's ``CheckpointHook`` (same options) with kill-safe saving; see the module doc."""

    def _local(self):
        # mmengine's local backend (or the deprecated FileClient's disk backend).
        return getattr(self.file_backend, 'name', '') in ('LocalBackend', 'HardDiskBackend')

    def before_train(self, runner):
        super().before_train(runner)
        if not is_main_process() or not self._local():
            return
        # The run holds the work dir's lock: temporary files there are a killed save's remains.
        temps = stale_temps(self.out_dir) + stale_temps(runner.work_dir)
        for path in sorted(set(temps)):
            name = osp.basename(path)
            if name.endswith('.pth') or name.startswith('.last_checkpoint.'):
                runner.logger.warning(f'removing {path}, left by an interrupted save')
                os.remove(path)
        # A kill between a save and its removals: the checkpoint resumed from lists them.
        pending = runner.message_hub.get_info(PENDING, [])
        self._remove(runner, [self.filename_tmpl.format(s) for s in pending])
        runner.message_hub.update_info(PENDING, [])

    def _save_checkpoint_with_step(self, runner, step, meta):
        if not self._local():  # remote storage: mmengine's own order
            return super()._save_checkpoint_with_step(runner, step, meta)
        bad = first_non_finite(runner.model.state_dict())
        if bad is not None:
            latest = self.last_ckpt or 'none (none saved yet)'
            raise ConfigError(
                f'iteration {runner.iter + 1}: weight {bad} is not finite; not saving it (the '
                f'latest checkpoint stays {latest}); {ADVICE}'
            )
        released = []
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids and self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                released.append(self.keep_ckpt_ids.popleft())
            self.keep_ckpt_ids.append(step)
            # Stored in the checkpoint: a resumed run knows which files it may remove.
            runner.message_hub.update_info('keep_ckpt_ids', list(self.keep_ckpt_ids))
        released = [s for s in released if s != step]
        runner.message_hub.update_info(PENDING, released)
        filename = self.filename_tmpl.format(step)
        path = osp.join(self.out_dir, filename)
        self.last_ckpt = path
        runner.message_hub.update_info('last_ckpt', path)
        self._write(runner, path, meta)
        if not is_main_process():
            return
        self._move_latest(runner, path)
        self._remove(runner, [self.filename_tmpl.format(s) for s in released])

    def _save_best_checkpoint(self, runner, metrics):
        """mmengine's best-checkpoint logic, with the new best written through
        :func:`atomic_output` and the previous best removed only once it is complete."""
        if not self._local() or not is_main_process():
            return super()._save_best_checkpoint(runner, metrics)
        deferred, save = [], runner.save_checkpoint

        def save_atomically(out_dir, filename, *args, **kwargs):
            if filename.startswith('.'):  # already a temporary name (_write)
                return save(out_dir, filename, *args, **kwargs)
            with atomic_output(osp.join(out_dir, filename)) as tmp:
                save(out_dir, osp.basename(tmp), *args, **kwargs)

        # Instance attributes shadow the methods for this call only.
        self.file_backend.remove = deferred.append
        runner.save_checkpoint = save_atomically
        try:
            super()._save_best_checkpoint(runner, metrics)
        finally:
            del self.file_backend.remove
            del runner.save_checkpoint
        for path in deferred:
            if osp.isfile(path):
                os.remove(path)

    def _write(self, runner, path, meta):
        """Write the checkpoint to a temporary file and rename it to ``path`` (all ranks call
        ``save_checkpoint``; mmengine writes on the main process only)."""
        if not is_main_process():
            runner.save_checkpoint(self.out_dir, osp.basename(path), meta=meta, **self._kw())
            return
        with atomic_output(path) as tmp:
            runner.save_checkpoint(self.out_dir, osp.basename(tmp), meta=meta, **self._kw())

    def _kw(self):
        return dict(
            file_client_args=self.file_client_args,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler,
            by_epoch=self.by_epoch,
            backend_args=self.backend_args,
            **self.args,
        )

    def _move_latest(self, runner, path):
        """Point ``work_dir/last_checkpoint`` at the complete ``path``."""
        write_text_atomically(path, osp.join(runner.work_dir, 'last_checkpoint'))

    def _remove(self, runner, names):
        """Remove checkpoints that ``max_keep_ckpts`` lets go, now that a newer one is complete."""
        for name in names:
            old = osp.join(self.out_dir, name)
            if osp.isfile(old):
                os.remove(old)
