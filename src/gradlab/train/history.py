"""``History``: what a training run logged, epoch by epoch (Keras's
``History`` object, returned by ``fit``)."""

from __future__ import annotations

from typing import Any

__all__ = ["History"]


class History:
    """Per-epoch logs of a run.

    ``history.history`` maps each logged name (``"loss"``, ``"val_loss"``,
    ``"accuracy"``, ``"val_accuracy"``, ``"lr"``, ``"grad_norm"``,
    ``"time"``, ...) to a list with one value per epoch; ``history.epoch``
    lists the epoch numbers (0-based). A name that appears only from some
    epoch on (or not in every epoch) is padded with None so that every list
    has the same length as ``epoch``.

    Example:
        >>> history = trainer.fit(train_loader, val_loader, epochs=5)
        >>> min(history["val_loss"])
    """

    def __init__(self) -> None:
        self.epoch: list[int] = []
        self.history: dict[str, list[Any]] = {}

    def append(self, epoch: int, logs: dict[str, Any]) -> None:
        """Record the logs of one finished epoch."""
        self.epoch.append(int(epoch))
        n = len(self.epoch)
        for key, value in logs.items():
            column = self.history.setdefault(key, [None] * (n - 1))
            column.append(value)
        for column in self.history.values():
            if len(column) < n:
                column.append(None)

    def __getitem__(self, key: str) -> list[Any]:
        if key not in self.history:
            raise KeyError(f"History has no {key!r}; logged names are {sorted(self.history)}")
        return self.history[key]

    def __contains__(self, key: str) -> bool:
        return key in self.history

    def __len__(self) -> int:
        return len(self.epoch)

    def keys(self) -> list[str]:
        return list(self.history)

    def state_dict(self) -> dict[str, Any]:
        return {"epoch": list(self.epoch), "history": {k: list(v) for k, v in self.history.items()}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if not isinstance(state, dict) or "epoch" not in state or "history" not in state:
            raise ValueError(
                f"History.load_state_dict expects a dict with 'epoch' and 'history', got {state!r}"
            )
        self.epoch = [int(e) for e in state["epoch"]]
        self.history = {k: list(v) for k, v in state["history"].items()}

    def __repr__(self) -> str:
        return f"History(epochs={len(self.epoch)}, keys={sorted(self.history)})"
