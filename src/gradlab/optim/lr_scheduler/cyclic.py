"""Cyclical schedules: CyclicLR (Smith 2017) and the one-cycle policy (Smith
and Topin 2019), both with momentum cycled against the rate."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from gradlab.optim.lr_scheduler.base import LRScheduler, check_int, check_real, per_group
from gradlab.optim.optimizer import Optimizer

__all__ = ["CyclicLR", "OneCycleLR"]


def _setup_momentum(optimizer: Optimizer, base_momentum: Any, max_momentum: Any,
                    fresh: bool) -> tuple[bool, list, list]:
    """Whether the optimizer's momentum is ``betas[0]``, and the per-group
    momentum bounds; a fresh schedule starts the groups at the maximum."""
    if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
        raise ValueError("optimizer must support momentum or beta1 with `cycle_momentum` option "
                         "enabled")
    use_beta1 = "betas" in optimizer.defaults
    base = per_group("base_momentum", optimizer, base_momentum)
    high = per_group("max_momentum", optimizer, max_momentum)
    for b, m in zip(base, high):
        check_real("base_momentum", b, 0.0)
        check_real("max_momentum", m, 0.0)
    if fresh:
        for b, m, group in zip(base, high, optimizer.param_groups):
            _set_momentum(group, m, use_beta1)
            group["max_momentum"], group["base_momentum"] = m, b
    return use_beta1, base, high


def _set_momentum(group: dict[str, Any], value: float, use_beta1: bool) -> None:
    if use_beta1:
        group["betas"] = (value, *group["betas"][1:])
    else:
        group["momentum"] = value


class CyclicLR(LRScheduler):
    r"""Cyclical learning rates (Smith, "Cyclical Learning Rates for Training
    Neural Networks", 2017): the rate goes from ``base_lr`` up to ``max_lr``
    in ``step_size_up`` steps and back in ``step_size_down``; with cycle
    c = floor(1 + t / S), S = up + down, and x = 1 + t / S - c,

    .. math::
        s = x / r \ (x \le r), \quad (x - 1) / (r - 1) \ \text{otherwise}, \quad r = up / S \\
        \eta_t = \eta_{base} + (\eta_{max} - \eta_{base})\, s\, f(\cdot)

    where f is 1 (``triangular``), 1 / 2^(c-1) (``triangular2``, the
    amplitude halves every cycle) or gamma^t (``exp_range``), or a custom
    ``scale_fn`` of the cycle or of t (``scale_mode``). With
    ``cycle_momentum`` the momentum (or Adam's beta1) moves the other way,
    from ``max_momentum`` down to ``base_momentum``. Step it after every
    batch.
    """

    def __init__(self, optimizer: Optimizer, base_lr: float | list[float], max_lr: float | list[float],
                 step_size_up: int = 2000, step_size_down: int | None = None,
                 mode: str = "triangular", gamma: float = 1.0,
                 scale_fn: Callable[[float], float] | None = None, scale_mode: str = "cycle",
                 cycle_momentum: bool = True, base_momentum: float = 0.8,
                 max_momentum: float = 0.9, last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"optimizer must be a gradlab Optimizer, got {type(optimizer).__name__}")
        base_lrs = per_group("base_lr", optimizer, base_lr)
        if last_epoch == -1:
            for lr, group in zip(base_lrs, optimizer.param_groups):
                group["lr"] = lr
        self.max_lrs = per_group("max_lr", optimizer, max_lr)
        for low, high in zip(base_lrs, self.max_lrs):
            check_real("base_lr", low, 0.0)
            check_real("max_lr", high, 0.0)
        check_int("step_size_up", step_size_up, 1)
        if step_size_down is not None:
            check_int("step_size_down", step_size_down, 1)
        up = float(step_size_up)
        down = float(step_size_down) if step_size_down is not None else up
        self.total_size = up + down
        self.step_ratio = up / self.total_size
        if scale_fn is None and mode not in ("triangular", "triangular2", "exp_range"):
            raise ValueError(f"Invalid mode: {mode!r} (expected 'triangular', 'triangular2' or "
                             "'exp_range', or a scale_fn)")
        if scale_mode not in ("cycle", "iterations"):
            raise ValueError(f"Invalid scale_mode: {scale_mode!r} (expected 'cycle' or 'iterations')")
        check_real("gamma", gamma, 0.0)
        self.mode, self.gamma, self.scale_fn_custom = mode, gamma, scale_fn
        if scale_fn is None:
            scale_mode = "iterations" if mode == "exp_range" else "cycle"
        self.scale_mode = scale_mode
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.use_beta1, self.base_momentums, self.max_momentums = _setup_momentum(
                optimizer, base_momentum, max_momentum, last_epoch == -1)
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs
        self._apply(self._lr_at(self.last_epoch))  # step 0 from base_lr, not initial_lr

    def scale_fn(self, x: float) -> float:
        if self.scale_fn_custom is not None:
            return self.scale_fn_custom(x)
        if self.mode == "triangular":
            return 1.0
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        return self.gamma ** x

    def _phase(self, step: float) -> tuple[float, float]:
        """(height fraction s, scale f) at step t."""
        cycle = math.floor(1 + step / self.total_size)
        x = 1.0 + step / self.total_size - cycle
        if x <= self.step_ratio:
            fraction = x / self.step_ratio
        else:
            fraction = (x - 1) / (self.step_ratio - 1)
        scale = self.scale_fn(cycle if self.scale_mode == "cycle" else step)
        return fraction, scale

    def _lr_at(self, step: float) -> list[float]:
        fraction, scale = self._phase(step)
        return [base + (high - base) * fraction * scale
                for base, high in zip(self.base_lrs, self.max_lrs)]

    def _apply(self, lrs: list[float]) -> None:
        super()._apply(lrs)
        if self.cycle_momentum:
            fraction, scale = self._phase(self.last_epoch)
            for group, low, high in zip(self.optimizer.param_groups, self.base_momentums,
                                        self.max_momentums):
                _set_momentum(group, high - (high - low) * fraction * scale, self.use_beta1)


class OneCycleLR(LRScheduler):
    r"""The one-cycle policy (Smith and Topin, "Super-Convergence", 2019), as
    PyTorch's: the rate anneals from max_lr / ``div_factor`` up to ``max_lr``
    over the first ``pct_start`` of ``total_steps``, then down to
    initial_lr / ``final_div_factor`` (cosine or linear annealing); with
    ``three_phase`` it returns to the initial rate first and then falls to the
    minimum, as in the paper. Momentum moves the opposite way between
    ``max_momentum`` and ``base_momentum``. Stepping past ``total_steps``
    raises ValueError.
    """

    def __init__(self, optimizer: Optimizer, max_lr: float | list[float], total_steps: int | None = None,
                 epochs: int | None = None, steps_per_epoch: int | None = None,
                 pct_start: float = 0.3, anneal_strategy: str = "cos", cycle_momentum: bool = True,
                 base_momentum: float | list[float] = 0.85,
                 max_momentum: float | list[float] = 0.95, div_factor: float = 25.0,
                 final_div_factor: float = 1e4, three_phase: bool = False,
                 last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"optimizer must be a gradlab Optimizer, got {type(optimizer).__name__}")
        if total_steps is not None:
            check_int("total_steps", total_steps, 1)
        elif epochs is not None and steps_per_epoch is not None:
            check_int("epochs", epochs, 1)
            check_int("steps_per_epoch", steps_per_epoch, 1)
            total_steps = epochs * steps_per_epoch
        else:
            raise ValueError("You must define either total_steps OR (epochs AND steps_per_epoch)")
        self.total_steps = total_steps
        check_real("pct_start", pct_start)
        if not 0 <= pct_start <= 1:
            raise ValueError(f"Invalid pct_start: {pct_start!r} (expected a number in [0, 1])")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"Invalid anneal_strategy: {anneal_strategy!r} "
                             "(expected 'cos' or 'linear')")
        check_real("div_factor", div_factor, 0.0, strict=True)
        check_real("final_div_factor", final_div_factor, 0.0, strict=True)
        self.anneal_strategy = anneal_strategy
        up_end = float(pct_start * total_steps) - 1
        if three_phase:
            # (end step, start, end) of each phase; names index the group's bounds
            self.phases = [(up_end, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                           (float(2 * pct_start * total_steps) - 2, "max_lr", "initial_lr",
                            "base_momentum", "max_momentum"),
                           (total_steps - 1, "initial_lr", "min_lr", "max_momentum",
                            "max_momentum")]
        else:
            self.phases = [(up_end, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                           (total_steps - 1, "max_lr", "min_lr", "base_momentum", "max_momentum")]
        max_lrs = per_group("max_lr", optimizer, max_lr)
        for high in max_lrs:
            check_real("max_lr", high, 0.0)
        if last_epoch == -1:
            for high, group in zip(max_lrs, optimizer.param_groups):
                group["initial_lr"] = high / div_factor
                group["max_lr"] = high
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.use_beta1, _, _ = _setup_momentum(optimizer, base_momentum, max_momentum,
                                                   last_epoch == -1)
        super().__init__(optimizer, last_epoch)

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def _locate(self, step: float) -> tuple[tuple, float]:
        """The phase that holds ``step`` and the fraction of it done."""
        if step > self.total_steps:
            raise ValueError(f"Tried to step {step} times. The specified number of total steps "
                             f"is {self.total_steps}")
        start = 0.0
        for phase in self.phases[:-1]:
            if step <= phase[0]:
                return phase, (step - start) / (phase[0] - start)
            start = phase[0]
        last = self.phases[-1]
        return last, (step - start) / (last[0] - start)

    def _lr_at(self, step: float) -> list[float]:
        phase, pct = self._locate(step)
        return [self._anneal(group[phase[1]], group[phase[2]], pct)
                for group in self.optimizer.param_groups]

    def _apply(self, lrs: list[float]) -> None:
        super()._apply(lrs)
        if self.cycle_momentum:
            phase, pct = self._locate(self.last_epoch)
            for group in self.optimizer.param_groups:
                value = self._anneal(group[phase[3]], group[phase[4]], pct)
                _set_momentum(group, value, self.use_beta1)
