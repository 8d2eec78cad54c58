"""The callback protocol (Keras's hook names and ``logs`` dict) and the one
"monitor a metric" helper that EarlyStopping, ModelCheckpoint and the
plateau schedule share."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from gradlab.distributed import get_rank

if TYPE_CHECKING:
    from gradlab.nn import Module
    from gradlab.train.trainer import Trainer

__all__ = ["Callback", "CallbackList", "MetricMonitor"]


class Callback:
    """Base class of the callbacks: every hook is a no-op.

    The Trainer calls, with a ``logs`` dict that is the only channel of
    values (Keras's design, ``keras/src/callbacks/callback.py``):

    - ``on_train_begin / on_train_end`` around ``fit``;
    - ``on_epoch_begin(epoch) / on_epoch_end(epoch, logs)``, the end logs
      holding the epoch's means (``loss``, metrics, ``val_*``, ``lr``, ...);
    - ``on_train_batch_begin(batch) / on_train_batch_end(batch, logs)`` with
      the batch's ``loss`` and metrics;
    - ``on_before_optimizer_step(batch, logs)`` (gradlab's addition, as
      PyTorch Lightning's hook): after backward, before the update; a
      callback that sets ``trainer.stop_training`` here prevents the update;
    - ``on_test_begin / on_test_end`` around every evaluation (validation
      included), ``on_predict_begin / on_predict_end`` around ``predict``.

    ``self.trainer`` and ``self.model`` are set by the Trainer. A callback
    with state that a resumed run needs returns it from ``state_dict`` (it
    is saved in run checkpoints) and takes it back in ``load_state_dict``.

    In a distributed run every rank calls every callback, except those
    whose ``main_process_only`` is true (they print or write files): only
    rank 0 calls those.
    """

    trainer: Trainer | None = None
    main_process_only: bool = False

    def set_trainer(self, trainer: Trainer) -> None:
        self.trainer = trainer

    @property
    def model(self) -> Module:
        if self.trainer is None:
            raise RuntimeError(f"{type(self).__name__} is not attached to a Trainer yet")
        return self.trainer.model

    def on_train_begin(self, logs: dict | None = None) -> None: ...
    def on_train_end(self, logs: dict | None = None) -> None: ...
    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None: ...
    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None: ...
    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None: ...
    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None: ...
    def on_before_optimizer_step(self, batch: int, logs: dict | None = None) -> None: ...
    def on_test_begin(self, logs: dict | None = None) -> None: ...
    def on_test_end(self, logs: dict | None = None) -> None: ...
    def on_predict_begin(self, logs: dict | None = None) -> None: ...
    def on_predict_end(self, logs: dict | None = None) -> None: ...

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        return None


_HOOKS = (
    "on_train_begin",
    "on_train_end",
    "on_epoch_begin",
    "on_epoch_end",
    "on_train_batch_begin",
    "on_train_batch_end",
    "on_before_optimizer_step",
    "on_test_begin",
    "on_test_end",
    "on_predict_begin",
    "on_predict_end",
)


class CallbackList:
    """Calls a hook on every callback in order."""

    def __init__(self, callbacks: Iterable[Callback] | None, trainer: Trainer) -> None:
        self.callbacks = list(callbacks or [])
        for i, cb in enumerate(self.callbacks):
            if not isinstance(cb, Callback):
                raise TypeError(
                    f"callbacks[{i}] must be a gradlab.train.callbacks.Callback, got {type(cb).__name__}"
                )
            cb.set_trainer(trainer)

    def __getattr__(self, name: str) -> Any:
        if name not in _HOOKS:
            raise AttributeError(name)

        def call(*args: Any, **kwargs: Any) -> None:
            main = get_rank() == 0
            for cb in self.callbacks:
                if main or not cb.main_process_only:
                    getattr(cb, name)(*args, **kwargs)

        return call

    def __iter__(self):  # noqa: ANN204 - an iterator of callbacks
        return iter(self.callbacks)

    def state_dict(self) -> list[dict[str, Any]]:
        return [{"type": type(cb).__name__, "state": cb.state_dict()} for cb in self.callbacks]

    def load_state_dict(self, states: list[dict[str, Any]]) -> None:
        names = [type(cb).__name__ for cb in self.callbacks]
        saved = [s.get("type") for s in states]
        if names != saved:
            raise ValueError(f"the checkpoint holds the state of callbacks {saved}, this Trainer has {names}")
        for cb, state in zip(self.callbacks, states):
            cb.load_state_dict(state["state"])


class MetricMonitor:
    """Track the best value of one logged metric.

    An epoch improves on the best when, in ``mode="min"``,
    ``current < best - min_delta`` (``current > best + min_delta`` in
    ``"max"``), Keras's rule. ``mode="auto"`` picks "max" for names holding
    ``acc`` or ``auc`` and "min" otherwise. With a ``baseline`` the first
    best is the baseline: an epoch must beat it to count as an improvement.

    Args:
        monitor: the logs key, e.g. ``"val_loss"``.
        mode: "min", "max" or "auto".
        min_delta: the smallest change that counts (>= 0).
        baseline: a value to beat, or None.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        mode: str = "auto",
        min_delta: float = 0.0,
        baseline: float | None = None,
        owner: str = "MetricMonitor",
    ) -> None:
        if not isinstance(monitor, str) or not monitor:
            raise ValueError(f"{owner}: monitor must be a logged name such as 'val_loss', got {monitor!r}")
        if mode not in ("min", "max", "auto"):
            raise ValueError(f"{owner}: mode must be 'min', 'max' or 'auto', got {mode!r}")
        if isinstance(min_delta, bool) or not isinstance(min_delta, (int, float)) or min_delta < 0:
            raise ValueError(f"{owner}: min_delta must be a number >= 0, got {min_delta!r}")
        if mode == "auto":
            lowered = monitor.lower()
            mode = "max" if ("acc" in lowered or "auc" in lowered) else "min"
        self.monitor, self.mode, self.min_delta, self.baseline = monitor, mode, float(min_delta), baseline
        self.owner = owner
        self.best: float = self._initial()

    def _initial(self) -> float:
        if self.baseline is not None:
            return float(self.baseline)
        return math.inf if self.mode == "min" else -math.inf

    def reset(self) -> None:
        self.best = self._initial()

    def current(self, logs: dict | None) -> float | None:
        """The monitored value in ``logs`` (None if it is not logged)."""
        value = (logs or {}).get(self.monitor)
        return None if value is None else float(value)

    def require(self, logs: dict | None) -> float:
        value = self.current(logs)
        if value is None:
            raise KeyError(
                f"{self.owner}: monitor {self.monitor!r} is not logged; available: "
                f"{sorted(k for k in (logs or {}))}"
            )
        return value

    def is_improvement(self, current: float) -> bool:
        if self.mode == "min":
            return current < self.best - self.min_delta
        return current > self.best + self.min_delta

    def update(self, current: float) -> bool:
        """Record ``current``; True if it improved on the best."""
        if self.is_improvement(current):
            self.best = current
            return True
        return False

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best = float(state["best"])
