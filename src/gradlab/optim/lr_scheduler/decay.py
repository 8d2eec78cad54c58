"""Schedules that decay the rate by a factor of the step count: lambda,
step, multi-step, exponential, linear, constant and polynomial."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from typing import Any

from gradlab.optim.lr_scheduler.base import LRScheduler, check_int, check_real, per_group
from gradlab.optim.optimizer import Optimizer

__all__ = ["ConstantLR", "ExponentialLR", "LambdaLR", "LinearLR", "MultiStepLR", "PolynomialLR",
           "StepLR"]


class LambdaLR(LRScheduler):
    """lr_t = base_lr * lr_lambda(t), one function or one per group.

    Example:
        >>> sched = LambdaLR(opt, lambda t: 0.95 ** t)
    """

    def __init__(self, optimizer: Optimizer, lr_lambda: Callable[[int], float] | list,
                 last_epoch: int = -1) -> None:
        self.lr_lambdas = per_group("lr_lambda", optimizer, lr_lambda)
        for fn in self.lr_lambdas:
            if not callable(fn):
                raise TypeError(f"lr_lambda must be callable, got {type(fn).__name__}")
        super().__init__(optimizer, last_epoch)

    def _lr_at(self, step: float) -> list[float]:
        return [base * fn(step) for base, fn in zip(self.base_lrs, self.lr_lambdas)]

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        state.pop("lr_lambdas", None)
        return state


class StepLR(LRScheduler):
    """lr_t = base_lr * gamma^floor(t / step_size)."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        check_int("step_size", step_size, 1)
        check_real("gamma", gamma, 0.0)
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def _lr_at(self, step: float) -> list[float]:
        return [base * self.gamma ** (step // self.step_size) for base in self.base_lrs]


class MultiStepLR(LRScheduler):
    """lr_t = base_lr * gamma^(number of milestones <= t); a milestone given
    twice counts twice, as in PyTorch."""

    def __init__(self, optimizer: Optimizer, milestones: list[int], gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        for m in milestones:
            check_int("milestones", m, 0)
        check_real("gamma", gamma, 0.0)
        self.milestones, self.gamma = sorted(milestones), gamma
        super().__init__(optimizer, last_epoch)

    def _lr_at(self, step: float) -> list[float]:
        return [base * self.gamma ** bisect_right(self.milestones, step) for base in self.base_lrs]


class ExponentialLR(LRScheduler):
    """lr_t = base_lr * gamma^t."""

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        check_real("gamma", gamma, 0.0)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def _lr_at(self, step: float) -> list[float]:
        return [base * self.gamma ** step for base in self.base_lrs]


class LinearLR(LRScheduler):
    """lr_t = base_lr * (s + (e - s) min(t, T) / T), from ``start_factor`` s
    to ``end_factor`` e over T = ``total_iters`` steps, then constant.

    "Decay linearly to 1% of the initial rate over tau steps" (Goodfellow et
    al., section 8.3.1) is ``LinearLR(opt, 1.0, 0.01, tau)``; a linear warmup
    is ``LinearLR(opt, 0.01, 1.0, warmup_steps)``.
    """

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0 / 3, end_factor: float = 1.0,
                 total_iters: int = 5, last_epoch: int = -1) -> None:
        check_real("start_factor", start_factor)
        check_real("end_factor", end_factor)
        if not 0 < start_factor <= 1:
            raise ValueError(f"Invalid start_factor: {start_factor!r} (expected a number in (0, 1])")
        if not 0 <= end_factor <= 1:
            raise ValueError(f"Invalid end_factor: {end_factor!r} (expected a number in [0, 1])")
        check_int("total_iters", total_iters, 1)
        self.start_factor, self.end_factor, self.total_iters = start_factor, end_factor, total_iters
        super().__init__(optimizer, last_epoch)

    def _lr_at(self, step: float) -> list[float]:
        progress = min(step, self.total_iters) / self.total_iters
        factor = self.start_factor + (self.end_factor - self.start_factor) * progress
        return [base * factor for base in self.base_lrs]


class ConstantLR(LRScheduler):
    """lr_t = base_lr * factor for t < total_iters, then base_lr."""

    def __init__(self, optimizer: Optimizer, factor: float = 1.0 / 3, total_iters: int = 5,
                 last_epoch: int = -1) -> None:
        check_real("factor", factor)
        if not 0 <= factor <= 1:
            raise ValueError(f"Invalid factor: {factor!r} (expected a number in [0, 1])")
        check_int("total_iters", total_iters, 0)
        self.factor, self.total_iters = factor, total_iters
        super().__init__(optimizer, last_epoch)

    def _lr_at(self, step: float) -> list[float]:
        factor = self.factor if step < self.total_iters else 1.0
        return [base * factor for base in self.base_lrs]


class PolynomialLR(LRScheduler):
    """lr_t = base_lr * (1 - min(t, T) / T)^power, T = ``total_iters``."""

    def __init__(self, optimizer: Optimizer, total_iters: int = 5, power: float = 1.0,
                 last_epoch: int = -1) -> None:
        check_int("total_iters", total_iters, 1)
        check_real("power", power, 0.0)
        self.total_iters, self.power = total_iters, power
        super().__init__(optimizer, last_epoch)

    def _lr_at(self, step: float) -> list[float]:
        factor = (1.0 - min(step, self.total_iters) / self.total_iters) ** self.power
        return [base * factor for base in self.base_lrs]
