"""Show training progress: a tqdm bar on a terminal, one line per epoch
otherwise (a log file, a CI job)."""

from __future__ import annotations

import sys
from typing import Any, TextIO

from gradlab.train.callbacks.base import Callback

__all__ = ["ProgressBar", "format_logs"]

_SKIP = ("size", "time")


def format_logs(logs: dict[str, Any], skip: tuple[str, ...] = _SKIP) -> str:
    parts = []
    for key, value in logs.items():
        if key in skip or value is None:
            continue
        parts.append(f"{key} {value:.4g}" if isinstance(value, float) else f"{key} {value}")
    return "  ".join(parts)


class ProgressBar(Callback):
    """Report progress (Keras's ``verbose=1`` / ``verbose=2``).

    On a terminal: a tqdm bar per epoch, advanced per batch, showing the
    running mean loss and metrics. When ``stream`` is not a terminal: one
    line per epoch with the epoch's logs, e.g.
    ``epoch 3/20  loss 0.2113  accuracy 0.9421  val_loss 0.1874 ... (1.9 s)``.

    Args:
        stream: where to write (default ``sys.stderr`` for the bar,
            ``sys.stdout`` for lines).
        bar: force the bar (True) or lines (False); None decides by
            ``stream.isatty()``.
    """

    main_process_only = True  # prints / writes: rank 0 only in a distributed run

    def __init__(self, stream: TextIO | None = None, bar: bool | None = None) -> None:
        self.stream = stream
        self.bar = bar
        self._tqdm: Any = None
        self._running: dict[str, float] = {}
        self._seen = 0

    def _use_bar(self) -> bool:
        if self.bar is not None:
            return self.bar
        stream = self.stream or sys.stderr
        return bool(getattr(stream, "isatty", lambda: False)())

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._running, self._seen = {}, 0
        if self._use_bar():
            from tqdm.auto import tqdm

            total = len(self.trainer.train_loader) if hasattr(self.trainer.train_loader, "__len__") else None
            self._tqdm = tqdm(
                total=total,
                desc=f"epoch {epoch + 1}/{self.trainer.epochs}",
                file=self.stream or sys.stderr,
                leave=True,
                dynamic_ncols=True,
            )

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self._tqdm is None:
            return
        logs = logs or {}
        n = logs.get("size", 1)
        self._seen += n
        for key, value in logs.items():
            if key not in _SKIP and isinstance(value, float):
                self._running[key] = self._running.get(key, 0.0) + value * n
        self._tqdm.set_postfix_str(
            format_logs({k: v / self._seen for k, v in self._running.items()}), refresh=False
        )
        self._tqdm.update(1)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        if self._tqdm is not None:
            # the bar keeps the training means; what only the epoch end
            # knows (validation, rate) goes on a line below it, since the
            # bar's width may cut a long postfix
            self._tqdm.set_postfix_str(format_logs({k: v for k, v in logs.items() if k in self._running}))
            self._tqdm.close()
            self._tqdm = None
            rest = {k: v for k, v in logs.items() if k not in self._running}
            stream = self.stream or sys.stderr
            stream.write(f"  {format_logs(rest)}  ({logs.get('time', 0.0):.1f} s)\n")
            stream.flush()
            return
        stream = self.stream or sys.stdout
        stream.write(
            f"epoch {epoch + 1}/{self.trainer.epochs}  {format_logs(logs)}  ({logs.get('time', 0.0):.1f} s)\n"
        )
        stream.flush()

    def on_train_end(self, logs: dict | None = None) -> None:
        if self._tqdm is not None:
            self._tqdm.close()
            self._tqdm = None
