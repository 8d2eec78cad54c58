"""Snapshot ensembles: one training run, M models (Huang et al. 2017)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from gradlab.train.callbacks._weights import copy_state
from gradlab.train.callbacks.base import Callback

__all__ = ["SnapshotEnsemble", "snapshot_lr"]


def snapshot_lr(lr_max: float, step: int, steps_per_cycle: int) -> float:
    r"""Huang et al.'s cyclic cosine annealing (their eq. 2), with the
    iteration t counted from 0:

    .. math::
        \alpha(t) = \frac{\alpha_0}{2}\Big(\cos\big(\pi\,\frac{t \bmod C}{C}\big) + 1\Big)

    where C = ceil(T / M) iterations per cycle.
    """
    return lr_max / 2.0 * (math.cos(math.pi * (step % steps_per_cycle) / steps_per_cycle) + 1.0)


class SnapshotEnsemble(Callback):
    """Train with restarts of a cosine schedule and keep a snapshot of the
    weights at the end of each cycle (Huang et al. 2017, "Snapshot
    Ensembles: Train 1, get M for free"). The callback sets every group's
    learning rate before each batch (do not give the Trainer another
    scheduler); the ensemble of the snapshots averages their predicted
    probabilities.

    Args:
        cycle_epochs: epochs per cycle (the paper's T / M).
        lr_max: alpha_0, the rate at the start of each cycle (default: the
            optimizer's first group's rate when training begins).
        keep: how many of the last snapshots to keep (None: all).

    Example:
        >>> snap = SnapshotEnsemble(cycle_epochs=10, lr_max=0.1)
        >>> Trainer(model, opt, loss, callbacks=[snap]).fit(loader, epochs=50)
        >>> ensemble = snap.ensemble(make_model)   # 5 models
    """

    def __init__(self, cycle_epochs: int, lr_max: float | None = None, keep: int | None = None) -> None:
        if isinstance(cycle_epochs, bool) or not isinstance(cycle_epochs, int) or cycle_epochs < 1:
            raise ValueError(f"SnapshotEnsemble: cycle_epochs must be an integer >= 1, got {cycle_epochs!r}")
        if lr_max is not None and not lr_max > 0:
            raise ValueError(f"SnapshotEnsemble: lr_max must be a positive number, got {lr_max!r}")
        self.cycle_epochs, self.lr_max, self.keep = cycle_epochs, lr_max, keep
        self.snapshots: list[dict[str, Any]] = []
        self._lr0: float | None = None

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.snapshots = []
        self._lr0 = (
            self.lr_max if self.lr_max is not None else float(self.trainer.optimizer.param_groups[0]["lr"])
        )

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        steps_per_epoch = len(self.trainer.train_loader)
        lr = snapshot_lr(self._lr0, self.trainer.global_step, self.cycle_epochs * steps_per_epoch)
        for group in self.trainer.optimizer.param_groups:
            group["lr"] = lr

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if (epoch + 1) % self.cycle_epochs == 0:
            self.snapshots.append(copy_state(self.model))
            if self.keep is not None:
                self.snapshots = self.snapshots[-self.keep :]

    def ensemble(self, make_model: Callable[[], Any]) -> Any:
        """An :class:`~gradlab.train.ensemble.Ensemble` of the snapshots,
        each loaded into a fresh ``make_model()``."""
        from gradlab.train.ensemble import snapshot_ensemble

        return snapshot_ensemble(make_model, self.snapshots)

    def state_dict(self) -> dict[str, Any]:
        return {"snapshots": list(self.snapshots), "lr0": self._lr0}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.snapshots = list(state["snapshots"])
        self._lr0 = state["lr0"]
