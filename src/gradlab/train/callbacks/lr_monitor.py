"""Log the learning rate of every parameter group."""

from __future__ import annotations

from typing import Any

from gradlab.train.callbacks.base import Callback

__all__ = ["LearningRateMonitor"]


class LearningRateMonitor(Callback):
    """Record the learning rates (PyTorch Lightning's ``LearningRateMonitor``).

    With ``logging_interval="epoch"`` it adds ``lr_group<i>`` for every
    parameter group to the epoch logs (so the History and CSVLogger get
    them); with ``"step"`` it also keeps ``self.steps``, one list of rates per
    training batch (after that batch's update).
    """

    def __init__(self, logging_interval: str = "epoch") -> None:
        if logging_interval not in ("epoch", "step"):
            raise ValueError(
                f"LearningRateMonitor: logging_interval must be 'epoch' or 'step', got {logging_interval!r}"
            )
        self.logging_interval = logging_interval
        self.steps: list[list[float]] = []

    def _rates(self) -> list[float]:
        return [float(g["lr"]) for g in self.trainer.optimizer.param_groups]

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self.logging_interval == "step":
            self.steps.append(self._rates())

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if logs is not None:
            for i, lr in enumerate(self._rates()):
                logs[f"lr_group{i}"] = lr

    def state_dict(self) -> dict[str, Any]:
        return {"steps": [list(s) for s in self.steps]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.steps = [list(s) for s in state["steps"]]
