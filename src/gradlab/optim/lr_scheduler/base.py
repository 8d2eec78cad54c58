"""The scheduler base: a learning rate computed in closed form from the step
count, ``lr_t = f(base_lr, t)`` (the way timm's and optax's schedules work),
written into the optimizer's parameter groups on every ``step()``.

PyTorch's schedulers mostly update the previous rate recursively
(``lr *= gamma``); a closed form gives the same numbers (to rounding),
cannot drift, and makes a restored schedule trivially exact: the state is the
step count.
"""

from __future__ import annotations

import copy
import numbers
from typing import Any

from gradlab.optim.optimizer import Optimizer

__all__ = ["LRScheduler", "per_group"]


def per_group(name: str, optimizer: Optimizer, value: Any) -> list:
    """``value`` for each parameter group: a list/tuple of one per group,
    or a single value repeated."""
    n = len(optimizer.param_groups)
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ValueError(f"expected {n} values for {name}, one per parameter group, "
                             f"got {len(value)}")
        return list(value)
    return [value] * n


def check_int(name: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"Invalid {name}: {value!r} (expected an integer >= {minimum})")


def check_real(name: str, value: Any, minimum: float | None = None,
               strict: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"Invalid {name}: {value!r} (expected a real number)")
    if minimum is not None and (value <= minimum if strict else value < minimum):
        raise ValueError(f"Invalid {name}: {value!r} (expected a number "
                         f"{'>' if strict else '>='} {minimum})")


class LRScheduler:
    """Base class of the schedules (``torch.optim.lr_scheduler.LRScheduler``).

    A subclass gives ``_lr_at(step)``, the rates of all groups at a step count
    in closed form from ``self.base_lrs``. Constructing a scheduler records
    each group's ``initial_lr`` (if not there yet) and applies step 0.

    Args:
        optimizer: the optimizer whose ``lr`` to set.
        last_epoch: the last step count, -1 for a fresh schedule; a resumed
            schedule needs ``initial_lr`` in the groups.
    """

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"optimizer must be a gradlab Optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(f"param 'initial_lr' is not specified in param_groups[{i}] "
                                   f"when resuming a scheduler with last_epoch={last_epoch}")
        self.base_lrs: list[float] = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._last_lr: list[float] = [group["lr"] for group in optimizer.param_groups]
        self.step()

    def _lr_at(self, step: float) -> list[float]:
        raise NotImplementedError(f"{type(self).__name__} does not define _lr_at")

    def get_lr(self) -> list[float]:
        """The rates at the current step count (prefer :meth:`get_last_lr`)."""
        return self._lr_at(self.last_epoch)

    def get_last_lr(self) -> list[float]:
        """The rates this scheduler last set, one per parameter group."""
        return list(self._last_lr)

    def step(self, epoch: float | None = None) -> None:
        """Advance one step (or jump to step ``epoch``) and set the rates."""
        self.last_epoch = self.last_epoch + 1 if epoch is None else epoch
        self._apply(self._lr_at(self.last_epoch))

    def _apply(self, lrs: list[float]) -> None:
        for group, lr in zip(self.optimizer.param_groups, lrs):
            group["lr"] = lr
        self._last_lr = list(lrs)

    # ------------------------------------------------------------ state
    _NOT_SAVED = ("optimizer",)

    def state_dict(self) -> dict[str, Any]:
        """Every attribute but the optimizer (and functions, which cannot be
        saved: restore them by constructing the scheduler again)."""
        return {k: copy.deepcopy(v) for k, v in self.__dict__.items()
                if k not in self._NOT_SAVED and not callable(v)}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a state from :meth:`state_dict`."""
        if not isinstance(state_dict, dict):
            raise TypeError(f"state_dict must be a dict, got {type(state_dict).__name__}")
        self.__dict__.update(copy.deepcopy(state_dict))
