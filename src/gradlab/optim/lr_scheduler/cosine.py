"""Cosine annealing, with and without warm restarts."""

from __future__ import annotations

import math

from gradlab.optim.lr_scheduler.base import LRScheduler, check_int, check_real
from gradlab.optim.optimizer import Optimizer

__all__ = ["CosineAnnealingLR", "CosineAnnealingWarmRestarts"]


def _cosine(base: float, eta_min: float, t: float, period: float) -> float:
    return eta_min + (base - eta_min) * (1 + math.cos(math.pi * t / period)) / 2


class CosineAnnealingLR(LRScheduler):
    r"""Cosine annealing (Loshchilov and Hutter 2017, SGDR, without restarts):

    .. math:: \eta_t = \eta_{min} + \tfrac12(\eta_{base} - \eta_{min})(1 + \cos(\pi t / T_{max}))

    computed in this closed form, which PyTorch documents but implements as
    a recursion; the two agree alone, and past T_max both climb back (the
    cosine is periodic, period 2 T_max).
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0,  # noqa: N803
                 last_epoch: int = -1) -> None:
        check_real("T_max", T_max, 0.0, strict=True)
        check_real("eta_min", eta_min, 0.0)
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def _lr_at(self, step: float) -> list[float]:
        return [_cosine(base, self.eta_min, step, self.T_max) for base in self.base_lrs]


class CosineAnnealingWarmRestarts(LRScheduler):
    r"""SGDR: cosine annealing restarted every T_i steps, T_0 first and each
    period ``T_mult`` times the last (Loshchilov and Hutter 2017):

    .. math:: \eta_t = \eta_{min} + \tfrac12(\eta_{base} - \eta_{min})(1 + \cos(\pi T_{cur} / T_i))

    ``step(epoch)`` accepts fractional epochs (``step(epoch + i / iters)``).
    """

    def __init__(self, optimizer: Optimizer, T_0: int, T_mult: int = 1,  # noqa: N803
                 eta_min: float = 0.0, last_epoch: int = -1) -> None:
        check_int("T_0", T_0, 1)
        check_int("T_mult", T_mult, 1)
        check_real("eta_min", eta_min, 0.0)
        self.T_0, self.T_mult, self.eta_min = T_0, T_mult, eta_min
        self.T_i, self.T_cur = T_0, max(last_epoch, 0)
        super().__init__(optimizer, last_epoch)

    def _period(self, step: float) -> tuple[float, float]:
        """(T_cur, T_i): position in the current period and its length."""
        if step < 0:
            raise ValueError(f"Expected non-negative epoch, but got {step}")
        t, period = step, self.T_0
        if self.T_mult == 1:
            return t % period, period
        while t >= period:
            t -= period
            period *= self.T_mult
        return t, period

    def _lr_at(self, step: float) -> list[float]:
        self.T_cur, self.T_i = self._period(step)
        return [_cosine(base, self.eta_min, self.T_cur, self.T_i) for base in self.base_lrs]
