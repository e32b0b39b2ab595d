"""GLPDepth's learning-rate curve as an mmengine parameter scheduler.

GLPDepth (Kim et al. 2022) sets the lr in closed form at every iteration: from ``min`` up to the
optimizer's lr over the first half of the run, ``min + (max - min) * (t / T) ** p``, then back
down mirrored, ``max - (max - min) * (t / T - 1) ** p``, with ``T = (epochs // 2) * iters`` and
``p = 0.9``. With an odd epoch count the descent runs one epoch past ``2 T`` and ends slightly
below ``min`` (25 epochs: ``max - (max - min) * (13 / 12) ** 0.9`` at the last iteration).
mmengine's LinearLR + PolyLR pair has the same end points but a different bend, hence this.
"""

import math

from mmengine.optim.scheduler.param_scheduler import INF, _ParamScheduler

from ..errors import ConfigError
from ..registry import register_param_scheduler


@register_param_scheduler()
class GLPDepthLR(_ParamScheduler):
    """Up-then-down power curve between ``eta_min`` and the optimizer's lr (GLPDepth).

    At step ``t`` (counted from ``begin``; iterations once converted from epochs) each parameter
    group's lr is ``eta_min + (max - eta_min) * (t / turn) ** power`` while ``t < turn``, then
    ``max - (max - eta_min) * (t / turn - 1) ** power``, where ``max`` is the group's initial lr.
    The value depends on ``t`` only, so resuming gives the same curve.

    Args:
        optimizer (Optimizer or OptimWrapper): the wrapped optimizer; its lr is the peak.
        eta_min (float): lr at the start and at ``2 * turn`` (GLPDepth's ``min_lr``).
        power (float): exponent of both branches. Defaults to 0.9.
        turn (int, optional): step of the peak, counted from ``begin``, in the scheduler's unit
            (epochs when ``by_epoch``; converted to iterations with ``convert_to_iter_based``).
            Defaults to ``(end - begin) // 2`` in the config's unit, as GLPDepth's
            ``epochs // 2``.
        begin (int): first step of the schedule. Defaults to 0.
        end (int): step after the last one; must be finite. The runner fills in the training
            length when it is left out.
        last_step (int): index of the last step, for resuming without a state dict.
            Defaults to -1.
        by_epoch (bool): whether ``begin``, ``end`` and ``turn`` count epochs. Defaults to True.
        verbose (bool): print each update. Defaults to False.

    Raises:
        ConfigError: for a value the curve cannot take (the message names the option).
    """

    def __init__(
        self,
        optimizer,
        eta_min: float,
        power: float = 0.9,
        turn: int | None = None,
        begin: int = 0,
        end: int = INF,
        last_step: int = -1,
        by_epoch: bool = True,
        verbose: bool = False,
    ):
        if not math.isfinite(end) or end >= INF:
            raise ConfigError(
                'GLPDepthLR: `end` must be set (the runner sets it to the training length when '
                'it builds the scheduler; set it yourself when building one directly)'
            )
        total = end - begin
        if turn is None:
            turn = total // 2
        if not (isinstance(turn, int) and 0 < turn < total):
            raise ConfigError(
                f'GLPDepthLR: turn must be an int step in (0, end - begin = {total}), got '
                f'{turn!r}; with by_epoch the schedule needs at least 2 epochs'
            )
        if not (isinstance(power, (int, float)) and power > 0 and math.isfinite(power)):
            raise ConfigError(f'GLPDepthLR: power must be a finite number > 0, got {power!r}')
        if not (isinstance(eta_min, (int, float)) and eta_min >= 0):
            raise ConfigError(f'GLPDepthLR: eta_min must be a number >= 0, got {eta_min!r}')
        for i, group in enumerate(optimizer.param_groups):
            peak = group.get('initial_lr', group['lr'])
            if eta_min > peak:
                raise ConfigError(
                    f'GLPDepthLR: eta_min {eta_min} exceeds the lr {peak} of parameter group '
                    f'{i}; the optimizer lr is the peak (max_lr) of the curve'
                )
            # The descent may run past 2 * turn (GLPDepth's odd epoch count); it must stay > 0.
            overrun = max((total - 1) / turn - 1, 0.0)
            last = peak - (peak - eta_min) * overrun**power
            if last <= 0:
                raise ConfigError(
                    f'GLPDepthLR: with turn={turn} and end - begin={total} the lr of parameter '
                    f'group {i} falls to {last:.3g} <= 0 before the end; turn should be about '
                    f'half the schedule'
                )
        self.eta_min, self.power, self.turn = float(eta_min), float(power), turn
        super().__init__(
            optimizer,
            'lr',
            begin=begin,
            end=end,
            last_step=last_step,
            by_epoch=by_epoch,
            verbose=verbose,
        )

    @classmethod
    def build_iter_from_epoch(
        cls, *args, begin=0, end=INF, turn=None, by_epoch=True, epoch_length=None, **kwargs
    ):
        """An iteration-based instance from an epoch-based config (``convert_to_iter_based``).

        The default turn is taken in epochs first (``(end - begin) // 2``, as GLPDepth's
        ``epochs // 2``), then converted, so an odd epoch count keeps GLPDepth's overrun.
        """
        if not by_epoch:
            raise ConfigError('GLPDepthLR: convert_to_iter_based needs an epoch-based config')
        if not (isinstance(epoch_length, int) and epoch_length > 0):
            raise ConfigError(
                f'GLPDepthLR: epoch_length must be a positive int, got {epoch_length!r}'
            )
        if not math.isfinite(end) or end >= INF:
            raise ConfigError('GLPDepthLR: `end` must be set to convert epochs to iterations')
        if turn is None:
            turn = (end - begin) // 2
        return cls(
            *args,
            begin=int(begin * epoch_length),
            end=int(end * epoch_length),
            turn=int(turn * epoch_length),
            by_epoch=False,
            **kwargs,
        )

    def lr_at(self, step: int, peak: float) -> float:
        """The closed-form lr ``step`` steps after ``begin`` for a group whose lr is ``peak``."""
        if step < self.turn:
            return self.eta_min + (peak - self.eta_min) * (step / self.turn) ** self.power
        return peak - (peak - self.eta_min) * (step / self.turn - 1) ** self.power

    def _get_value(self):
        return [self.lr_at(self.last_step, peak) for peak in self.base_values]
