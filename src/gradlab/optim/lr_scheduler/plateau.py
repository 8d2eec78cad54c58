"""Reduce the rate when a monitored metric stops improving."""

from __future__ import annotations

import math
from typing import SupportsFloat

from gradlab.optim.lr_scheduler.base import LRScheduler, check_int, check_real, per_group
from gradlab.optim.optimizer import Optimizer

__all__ = ["ReduceLROnPlateau"]


class ReduceLROnPlateau(LRScheduler):
    """Multiply the rate by ``factor`` when the metric has not improved for
    more than ``patience`` steps, then wait ``cooldown`` steps (PyTorch's rule,
    after Keras's callback).

    "Improved" means below ``best * (1 - threshold)`` (``mode="min"``,
    ``threshold_mode="rel"``), below ``best - threshold`` ("abs"), or the
    mirror images for ``mode="max"``. The rate is kept in closed form from the
    number of reductions k of each group: lr = max(base_lr * factor^k,
    min_lr), where a reduction that would change the rate by no more than
    ``eps`` is not made. ``base_lr`` is the group's rate when the scheduler is
    made (or ``initial_lr`` if another scheduler set it, so that a
    :class:`Warmup` in front ends at the right rate).

    Example:
        >>> sched = ReduceLROnPlateau(opt, factor=0.5, patience=3)
        >>> for epoch in range(epochs):
        ...     sched.step(validate())
    """

    def __init__(self, optimizer: Optimizer, mode: str = "min", factor: float = 0.1,
                 patience: int = 10, threshold: float = 1e-4, threshold_mode: str = "rel",
                 cooldown: int = 0, min_lr: float | list[float] = 0, eps: float = 1e-8) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"optimizer must be a gradlab Optimizer, got {type(optimizer).__name__}")
        check_real("factor", factor, 0.0)
        if factor >= 1.0:
            raise ValueError(f"Invalid factor: {factor!r} (expected a number < 1.0)")
        if mode not in ("min", "max"):
            raise ValueError(f"Invalid mode: {mode!r} (expected 'min' or 'max')")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"Invalid threshold_mode: {threshold_mode!r} (expected 'rel' or 'abs')")
        check_int("patience", patience, 0)
        check_int("cooldown", cooldown, 0)
        check_real("threshold", threshold, 0.0)
        check_real("eps", eps, 0.0)
        self.optimizer = optimizer
        self.min_lrs = per_group("min_lr", optimizer, min_lr)
        for value in self.min_lrs:
            check_real("min_lr", value, 0.0)
        self.mode, self.factor, self.patience = mode, factor, patience
        self.threshold, self.threshold_mode = threshold, threshold_mode
        self.cooldown, self.eps = cooldown, eps
        self.base_lrs = [group.get("initial_lr", group["lr"]) for group in optimizer.param_groups]
        self.num_reductions = [0] * len(self.base_lrs)
        self.last_epoch = 0
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self._last_lr = [group["lr"] for group in optimizer.param_groups]

    @property
    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def is_better(self, current: float, best: float) -> bool:
        if self.mode == "min":
            bound = best * (1.0 - self.threshold) if self.threshold_mode == "rel" \
                else best - self.threshold
            return current < bound
        bound = best * (1.0 + self.threshold) if self.threshold_mode == "rel" \
            else best + self.threshold
        return current > bound

    def _lr_at(self, step: float) -> list[float]:
        return [max(base * self.factor ** k, low)
                for base, k, low in zip(self.base_lrs, self.num_reductions, self.min_lrs)]

    def step(self, metrics: SupportsFloat | None = None, epoch: int | None = None) -> None:  # type: ignore[override]
        """Record one value of the monitored metric, reducing the rate if it
        has plateaued."""
        if metrics is None:
            raise ValueError("ReduceLROnPlateau.step needs the monitored metric, e.g. "
                             "scheduler.step(val_loss)")
        current = float(metrics)
        self.last_epoch = self.last_epoch + 1 if epoch is None else epoch
        if self.is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs in cooldown do not count
        if self.num_bad_epochs > self.patience:
            old = self._lr_at(self.last_epoch)
            for i, low in enumerate(self.min_lrs):
                new = max(self.base_lrs[i] * self.factor ** (self.num_reductions[i] + 1), low)
                if old[i] - new > self.eps:
                    self.num_reductions[i] += 1
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._apply(self._lr_at(self.last_epoch))
