"""Exponential moving average of the weights, used for evaluation."""

from __future__ import annotations

from typing import Any

from gradlab import backend
from gradlab.autograd import no_grad
from gradlab.train.callbacks.base import Callback

__all__ = ["EMA"]


class EMA(Callback):
    r"""Keep an exponential moving average of the parameters and evaluate
    with it (Polyak averaging in its exponential form; TensorFlow's
    ``ExponentialMovingAverage``, timm's ``ModelEmaV2``, Keras's
    ``use_ema``).

    After every training batch, with t the number of updates so far,

    .. math::
        d_t = \min\big(d, \tfrac{1 + t}{10 + t}\big), \qquad
        \bar\theta \leftarrow d_t\,\bar\theta + (1 - d_t)\,\theta

    (the ramp of ``d_t`` is TensorFlow's ``num_updates`` rule, so that early
    averages are not dominated by the random initial weights; turn it off
    with ``ramp=False``). Every evaluation during training (validation,
    ``evaluate``, ``predict``) swaps the averages in and the live weights
    back afterwards; at the end of training, with ``apply_at_end``, the
    model keeps the averages. Buffers (BatchNorm's running statistics) are
    not averaged: the model's own are used.

    Put EarlyStopping(restore_best_weights=True) after EMA in the callback
    list: its restored weights (the averages of the best epoch) then win.
    """

    def __init__(self, decay: float = 0.999, ramp: bool = True, apply_at_end: bool = True) -> None:
        if isinstance(decay, bool) or not isinstance(decay, (int, float)) or not 0.0 <= decay < 1.0:
            raise ValueError(f"EMA: decay must be a number in [0, 1), got {decay!r}")
        self.decay, self.ramp, self.apply_at_end = float(decay), ramp, apply_at_end
        self.shadow: dict[str, Any] = {}
        self.num_updates = 0
        self._backup: dict[str, Any] | None = None

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.shadow = {name: p.array.copy() for name, p in self.model.named_parameters()}
        self.num_updates = 0

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        d = min(self.decay, (1.0 + self.num_updates) / (10.0 + self.num_updates)) if self.ramp else self.decay
        for name, p in self.model.named_parameters():
            avg = self.shadow[name]
            avg *= d
            avg += (1.0 - d) * p.array
        self.num_updates += 1

    def _swap_in(self) -> None:
        if not self.shadow or self._backup is not None:
            return
        params = dict(self.model.named_parameters())
        self._backup = {name: p.array.copy() for name, p in params.items()}
        with no_grad():
            for name, avg in self.shadow.items():
                params[name].array[...] = avg

    def _swap_out(self) -> None:
        if self._backup is None:
            return
        params = dict(self.model.named_parameters())
        with no_grad():
            for name, live in self._backup.items():
                params[name].array[...] = live
        self._backup = None

    def on_test_begin(self, logs: dict | None = None) -> None:
        self._swap_in()

    def on_test_end(self, logs: dict | None = None) -> None:
        self._swap_out()

    on_predict_begin = on_test_begin
    on_predict_end = on_test_end

    def on_train_end(self, logs: dict | None = None) -> None:
        if self.apply_at_end:
            self._swap_in()
            self._backup = None

    def state_dict(self) -> dict[str, Any]:
        return {"shadow": dict(self.shadow), "num_updates": self.num_updates, "decay": self.decay}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        params = dict(self.model.named_parameters())
        if set(state["shadow"]) != set(params):
            raise ValueError(
                f"EMA state holds averages of {sorted(state['shadow'])}, the model has "
                f"parameters {sorted(params)}"
            )
        self.shadow = {
            k: backend.to_device(v.copy(), params[k].device).astype(params[k].dtype)
            for k, v in state["shadow"].items()
        }
        self.num_updates = int(state["num_updates"])
