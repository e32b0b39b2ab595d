"""The DeiT / PVTv2 ImageNet learning-rate curve as an mmengine parameter scheduler.

The official code (whai362/PVT ``classification/main.py``, timm's ``CosineLRScheduler`` stepped
once per epoch) sets the lr of epoch ``e`` in closed form: during the warmup,
``warmup_lr + e * (lr - warmup_lr) / warmup_epochs``; after it,
``eta_min + (lr - eta_min) * (1 + cos(pi * e / T)) / 2`` with ``T`` the number of epochs. The
cosine counts ``e`` from the start of training, not from the end of the warmup, which a
mmengine LinearLR + CosineAnnealingLR pair would do; hence this scheduler.
"""

import math

from mmengine.optim.scheduler.param_scheduler import INF, _ParamScheduler

from ..errors import ConfigError
from ..registry import register_param_scheduler


@register_param_scheduler()
class DeiTCosineLR(_ParamScheduler):
    """Linear warmup, then cosine over the whole run, evaluated per epoch (timm's formula).

    Args:
        optimizer (Optimizer or OptimWrapper): the wrapped optimizer; its lr is the peak.
        warmup_epochs (int): epochs of linear warmup. Defaults to 5.
        warmup_lr (float): lr at epoch 0. Defaults to 1e-6.
        eta_min (float): the cosine's floor. Defaults to 1e-5.
        begin (int): first epoch. Defaults to 0.
        end (int): epoch after the last one (the cosine's period ``T = end - begin``); the
            runner fills in the training length when it is left out.
        last_step (int): index of the last step, for resuming. Defaults to -1.
        by_epoch (bool): must be True (the official curve changes once per epoch).
        verbose (bool): print each update. Defaults to False.
    """

    def __init__(
        self,
        optimizer,
        warmup_epochs: int = 5,
        warmup_lr: float = 1e-6,
        eta_min: float = 1e-5,
        begin: int = 0,
        end: int = INF,
        last_step: int = -1,
        by_epoch: bool = True,
        verbose: bool = False,
    ):
        if not by_epoch:
            raise ConfigError('DeiTCosineLR: by_epoch must be True (the lr changes per epoch)')
        if not math.isfinite(end) or end >= INF:
            raise ConfigError('DeiTCosineLR: `end` must be set (the runner sets the run length)')
        if not (isinstance(warmup_epochs, int) and 0 <= warmup_epochs < end - begin):
            raise ConfigError(
                f'DeiTCosineLR: warmup_epochs={warmup_epochs!r}; expected an int in '
                f'[0, {end - begin})'
            )
        self.warmup_epochs = warmup_epochs
        self.warmup_lr = float(warmup_lr)
        self.eta_min = float(eta_min)
        self.period = end - begin
        super().__init__(
            optimizer,
            'lr',
            begin=begin,
            end=end,
            last_step=last_step,
            by_epoch=True,
            verbose=verbose,
        )

    def lr_at(self, epoch: int, peak: float) -> float:
        """The lr of ``epoch`` (counted from ``begin``) for a group whose lr is ``peak``."""
        if epoch < self.warmup_epochs:
            return self.warmup_lr + epoch * (peak - self.warmup_lr) / self.warmup_epochs
        cos = 1 + math.cos(math.pi * epoch / self.period)
        return self.eta_min + 0.5 * (peak - self.eta_min) * cos

    def _get_value(self):
        return [self.lr_at(self.last_step, peak) for peak in self.base_values]
