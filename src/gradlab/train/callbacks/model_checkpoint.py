"""Save checkpoints during training: the best so far, or every N epochs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gradlab.train.callbacks.base import Callback, MetricMonitor

__all__ = ["ModelCheckpoint"]


class ModelCheckpoint(Callback):
    """Write a checkpoint at the end of epochs (Keras's ``ModelCheckpoint``).

    ``filepath`` may hold ``{epoch}`` (1-based, as Keras) and any logged name,
    e.g. ``"ckpt-{epoch:02d}-{val_loss:.3f}.safetensors"``. With
    ``save_best_only`` a checkpoint is written only when ``monitor``
    improves (:class:`MetricMonitor`'s rule); otherwise every
    ``every_n_epochs`` epochs. The file is a full run checkpoint (model,
    optimizer, schedule, data position, random states, callbacks, history:
    ``fit(resume_from=...)`` continues from it), or with
    ``save_weights_only`` just ``model.state_dict()``. Files are written
    atomically after all callbacks have seen the epoch, so the saved state
    is that of the finished epoch.

    Attributes:
        best: the best monitored value; last_saved: the path last written.
    """

    def __init__(
        self,
        filepath: str | Path,
        monitor: str = "val_loss",
        mode: str = "auto",
        save_best_only: bool = False,
        save_weights_only: bool = False,
        every_n_epochs: int = 1,
        min_delta: float = 0.0,
        verbose: bool = False,
    ) -> None:
        if isinstance(every_n_epochs, bool) or not isinstance(every_n_epochs, int) or every_n_epochs < 1:
            raise ValueError(
                f"ModelCheckpoint: every_n_epochs must be an integer >= 1, got {every_n_epochs!r}"
            )
        self.filepath = str(filepath)
        self.monitor = MetricMonitor(monitor, mode, min_delta, owner="ModelCheckpoint")
        self.save_best_only, self.save_weights_only = save_best_only, save_weights_only
        self.every_n_epochs, self.verbose = every_n_epochs, verbose
        self.last_saved: Path | None = None

    @property
    def best(self) -> float:
        return self.monitor.best

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        if self.save_best_only:
            if not self.monitor.update(self.monitor.require(logs)):
                return
        elif (epoch + 1) % self.every_n_epochs:
            return
        path = Path(self.filepath.format(epoch=epoch + 1, **logs))
        self.trainer.save_at_epoch_end(path, weights_only=self.save_weights_only)
        self.last_saved = path
        if self.verbose:
            print(f"Epoch {epoch + 1}: saved {path}")

    def state_dict(self) -> dict[str, Any]:
        return {
            "monitor": self.monitor.state_dict(),
            "last_saved": None if self.last_saved is None else str(self.last_saved),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.monitor.load_state_dict(state["monitor"])
        self.last_saved = None if state["last_saved"] is None else Path(state["last_saved"])
