"""Combining schedules: one after another (SequentialLR), multiplied
together (ChainedScheduler), and a warmup in front of any schedule
(Warmup)."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from typing import Any, SupportsFloat

from gradlab.optim.lr_scheduler.base import LRScheduler, check_int, check_real
from gradlab.optim.lr_scheduler.plateau import ReduceLROnPlateau
from gradlab.optim.optimizer import Optimizer

__all__ = ["ChainedScheduler", "SequentialLR", "Warmup"]


def _check_children(owner: str, optimizer: Optimizer, schedulers: Sequence[LRScheduler],
                    allow_plateau: bool = False) -> None:
    if len(schedulers) < 1:
        raise ValueError(f"{owner} expects at least one scheduler, but got none")
    for i, sched in enumerate(schedulers):
        if not isinstance(sched, LRScheduler):
            raise TypeError(f"{owner}: scheduler at index {i} is a {type(sched).__name__}, not a "
                            "gradlab scheduler")
        if isinstance(sched, ReduceLROnPlateau) and not allow_plateau:
            raise ValueError(f"{owner} does not support ReduceLROnPlateau (index {i}): it needs "
                             "the metric in step(); use Warmup(optimizer, plateau, ...) for a "
                             "warmup before it")
        if sched.optimizer is not optimizer:
            raise ValueError(f"{owner} expects all schedulers to belong to the same optimizer, "
                             f"but the scheduler at index {i} has another one")


class _Composite(LRScheduler):
    """State dicts that hold the children's state dicts."""

    _NOT_SAVED = ("optimizer", "_schedulers")

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state = dict(state_dict)
        children = state.pop("_schedulers")
        super().load_state_dict(state)
        for sched, child in zip(self._schedulers, children):
            sched.load_state_dict(child)


class SequentialLR(_Composite):
    """Run ``schedulers[i]`` from ``milestones[i-1]`` on, each restarted at
    its own step 0: lr_t = schedulers[i].lr(t - milestones[i-1]).

    Example:
        >>> warm = LinearLR(opt, start_factor=0.01, total_iters=5)
        >>> cos = CosineAnnealingLR(opt, T_max=95)
        >>> sched = SequentialLR(opt, [warm, cos], milestones=[5])
    """

    def __init__(self, optimizer: Optimizer, schedulers: Sequence[LRScheduler],
                 milestones: list[int], last_epoch: int = -1) -> None:
        _check_children(type(self).__name__, optimizer, schedulers)
        if len(milestones) != len(schedulers) - 1:
            raise ValueError("SequentialLR expects one milestone fewer than schedulers, got "
                             f"{len(schedulers)} schedulers and {len(milestones)} milestones")
        for m in milestones:
            check_int("milestones", m, 0)
        self._schedulers = list(schedulers)
        self._milestones = list(milestones)
        self.optimizer = optimizer
        self.last_epoch = last_epoch
        self.step()

    def _lr_at(self, step: float) -> list[float]:
        idx = bisect_right(self._milestones, step)
        start = self._milestones[idx - 1] if idx > 0 else 0
        return self._schedulers[idx]._lr_at(step - start)

    def step(self, epoch: float | None = None) -> None:
        self.last_epoch = self.last_epoch + 1 if epoch is None else epoch
        idx = bisect_right(self._milestones, self.last_epoch)
        start = self._milestones[idx - 1] if idx > 0 else 0
        self._schedulers[idx].step(self.last_epoch - start)
        self._last_lr = self._schedulers[idx].get_last_lr()


class ChainedScheduler(_Composite):
    """Apply several schedules at once: each multiplies the rate by its own
    factor, lr_t = base_lr * prod_i (lr_i(t) / base_lr).

    This is what PyTorch's ChainedScheduler computes by stepping each
    scheduler on the rate the previous one left, for the multiplicative
    schedules (StepLR, MultiStepLR, ExponentialLR, LinearLR, ConstantLR,
    PolynomialLR, and CosineAnnealingLR with eta_min=0 during its first T_max
    steps). For schedules that set an absolute rate (LambdaLR, CyclicLR,
    OneCycleLR), and for PyTorch's cosine recursion once it passes T_max (it
    adds to the rate there), PyTorch's result depends on the order and the
    history; here they too act as factors.
    """

    def __init__(self, schedulers: Sequence[LRScheduler],
                 optimizer: Optimizer | None = None) -> None:
        schedulers = list(schedulers)
        if not schedulers:
            raise ValueError("ChainedScheduler expects at least one scheduler, but got none")
        optimizer = optimizer or schedulers[0].optimizer
        _check_children(type(self).__name__, optimizer, schedulers)
        self._schedulers = schedulers
        self.optimizer = optimizer
        self.base_lrs = list(schedulers[0].base_lrs)
        self.last_epoch = schedulers[0].last_epoch
        self._apply(self._combine())

    def _combine(self) -> list[float]:
        lrs = list(self.base_lrs)
        for sched in self._schedulers:
            lrs = [lr * (own / base) if base != 0 else 0.0
                   for lr, own, base in zip(lrs, sched.get_last_lr(), sched.base_lrs)]
        return lrs

    def _lr_at(self, step: float) -> list[float]:
        lrs = list(self.base_lrs)
        for sched in self._schedulers:
            lrs = [lr * (own / base) if base != 0 else 0.0
                   for lr, own, base in zip(lrs, sched._lr_at(step), sched.base_lrs)]
        return lrs

    def step(self, epoch: float | None = None) -> None:
        for sched in self._schedulers:
            sched.step(epoch)
        self.last_epoch = self._schedulers[0].last_epoch
        self._apply(self._combine())


class Warmup(_Composite):
    r"""A warmup of ``warmup_steps`` steps in front of any schedule,
    including :class:`ReduceLROnPlateau` (which PyTorch's SequentialLR
    refuses).

    .. math::
        \eta_t = \eta_{base}\,\big(s + (1 - s)\, t / W\big) \ \text{(linear)}
        \quad\text{or}\quad \eta_{base}\, s \ \text{(constant)}, \qquad t < W

    and from step W on, the wrapped schedule ``after`` runs from its own step
    0: eta_t = after.lr(t - W). Linear warmup is the remedy of Goyal et al.
    (2017) for large learning rates early in training; it equals
    ``SequentialLR([LinearLR(opt, s, 1, W), after], [W])``. For a plateau
    schedule, call ``step(metric)`` every time: the metrics of the warmup
    steps (up to and including the step that reaches W) are ignored, since
    they were measured at warmup rates; later ones go to the plateau rule,
    whose reductions start from the base rate.

    Args:
        optimizer: the optimizer.
        after: the schedule that follows (made on the same optimizer before
            the Warmup).
        warmup_steps: W >= 1.
        mode: "linear" or "constant".
        start_factor: s in (0, 1] (default 0.1).

    Example:
        >>> plateau = ReduceLROnPlateau(opt, factor=0.5, patience=2)
        >>> sched = Warmup(opt, plateau, warmup_steps=5)
        >>> for epoch in range(epochs):
        ...     train(); sched.step(validate())
    """

    def __init__(self, optimizer: Optimizer, after: LRScheduler, warmup_steps: int,
                 mode: str = "linear", start_factor: float = 0.1) -> None:
        _check_children(type(self).__name__, optimizer, [after], allow_plateau=True)
        check_int("warmup_steps", warmup_steps, 1)
        if mode not in ("linear", "constant"):
            raise ValueError(f"Invalid mode: {mode!r} (expected 'linear' or 'constant')")
        check_real("start_factor", start_factor)
        if not 0 < start_factor <= 1:
            raise ValueError(f"Invalid start_factor: {start_factor!r} (expected a number in (0, 1])")
        self._schedulers = [after]
        self.warmup_steps, self.mode, self.start_factor = warmup_steps, mode, start_factor
        self.optimizer = optimizer
        self.base_lrs = list(after.base_lrs)
        self.last_epoch = -1
        self._plateau = isinstance(after, ReduceLROnPlateau)
        self.step()

    @property
    def after(self) -> LRScheduler:
        return self._schedulers[0]

    def _factor(self, step: float) -> float:
        if self.mode == "constant":
            return self.start_factor
        return self.start_factor + (1 - self.start_factor) * step / self.warmup_steps

    def _lr_at(self, step: float) -> list[float]:
        if step < self.warmup_steps:
            return [base * self._factor(step) for base in self.base_lrs]
        return self.after._lr_at(step - self.warmup_steps)

    def step(self, metrics: SupportsFloat | None = None, epoch: float | None = None) -> None:  # type: ignore[override]
        """Advance one step; ``metrics`` is the monitored value when the
        wrapped schedule is a plateau rule."""
        self.last_epoch = self.last_epoch + 1 if epoch is None else epoch
        if self.last_epoch < self.warmup_steps:
            self._apply(self._lr_at(self.last_epoch))
            return
        if self._plateau:
            # the metric that ends the warmup was measured at a warmup rate
            if self.last_epoch == self.warmup_steps:
                self.after._apply(self.after._lr_at(0))
            else:
                self.after.step(metrics)
        else:
            self.after.step(self.last_epoch - self.warmup_steps)
        self._last_lr = self.after.get_last_lr()
