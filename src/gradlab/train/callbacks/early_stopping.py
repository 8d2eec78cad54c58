"""Stop training when a monitored metric has stopped improving."""

from __future__ import annotations

from typing import Any

from gradlab.train.callbacks._weights import evaluated_state, load_state
from gradlab.train.callbacks.base import Callback, MetricMonitor

__all__ = ["EarlyStopping"]


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved for ``patience`` epochs
    (Keras's ``EarlyStopping``; early stopping as a regularizer: Prechelt
    1998, Goodfellow et al. 2016 sec. 7.8).

    After each epoch: if the value improves on the best by more than
    ``min_delta`` (see :class:`MetricMonitor`), it becomes the best and the
    waiting count returns to 0; otherwise the count goes up by one, and
    training stops when it reaches ``patience``. With ``baseline``, training
    also stops after ``patience`` epochs that do not beat the baseline.
    Epochs before ``start_from_epoch`` are not judged (a warm-up).

    With ``restore_best_weights`` the weights (parameters and buffers) of the
    best epoch are kept and written back into the model when training ends,
    whether it stopped early or ran out of epochs (Keras restores only on an
    early stop). Under an :class:`~gradlab.train.callbacks.EMA` callback the
    kept weights are the averaged ones the validation used.

    Attributes:
        best, best_epoch, wait, stopped_epoch (-1 if it never stopped).
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        min_delta: float = 0.0,
        patience: int = 0,
        mode: str = "auto",
        baseline: float | None = None,
        restore_best_weights: bool = False,
        start_from_epoch: int = 0,
        verbose: bool = False,
    ) -> None:
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 0:
            raise ValueError(f"EarlyStopping: patience must be an integer >= 0, got {patience!r}")
        self.monitor = MetricMonitor(monitor, mode, min_delta, baseline, owner="EarlyStopping")
        self.patience = patience
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch
        self.verbose = verbose
        self._reset()

    def _reset(self) -> None:
        self.monitor.reset()
        self.wait = 0
        self.stopped_epoch = -1
        self.best_epoch = -1
        self.best_weights: dict[str, Any] | None = None

    @property
    def best(self) -> float:
        return self.monitor.best

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._reset()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        current = self.monitor.require(logs)
        if epoch < self.start_from_epoch:
            return
        self.wait += 1
        if self.monitor.update(current):
            self.best_epoch = epoch
            self.wait = 0
            if self.restore_best_weights:
                self.best_weights = evaluated_state(self.trainer)
            return  # an improving epoch never stops training (Keras 3)
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.trainer.stop_training = True
            if self.verbose:
                print(
                    f"Epoch {epoch + 1}: early stopping (best {self.monitor.monitor} "
                    f"{self.best:.6g} at epoch {self.best_epoch + 1})"
                )

    def on_train_end(self, logs: dict | None = None) -> None:
        if self.restore_best_weights and self.best_weights is not None:
            load_state(self.model, self.best_weights)

    def state_dict(self) -> dict[str, Any]:
        return {
            "monitor": self.monitor.state_dict(),
            "wait": self.wait,
            "stopped_epoch": self.stopped_epoch,
            "best_epoch": self.best_epoch,
            "best_weights": self.best_weights,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.monitor.load_state_dict(state["monitor"])
        self.wait, self.stopped_epoch = int(state["wait"]), int(state["stopped_epoch"])
        self.best_epoch = int(state["best_epoch"])
        self.best_weights = state["best_weights"]
