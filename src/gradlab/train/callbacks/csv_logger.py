"""Write the epoch logs to a CSV file or a JSON-lines file."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

from gradlab.io import chmod_default
from gradlab.train.callbacks.base import Callback

__all__ = ["CSVLogger", "JSONLogger"]


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", newline="") as f:
            f.write(text)
        chmod_default(tmp)  # mkstemp makes 0600 files; the user's umask decides
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


class _RowLogger(Callback):
    """Keeps one row per epoch and rewrites the whole file after each epoch
    (atomically), so that the file always matches the run, a resumed one
    included."""

    main_process_only = True  # prints / writes: rank 0 only in a distributed run

    def __init__(self, filename: str | Path, append: bool = False) -> None:
        self.filename = Path(filename)
        self.append = append
        self.rows: list[dict[str, Any]] = []
        self._before: str = ""

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.rows = []
        self._before = self.filename.read_text() if self.append and self.filename.is_file() else ""

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        row = {"epoch": epoch + 1}
        row.update({k: v for k, v in (logs or {}).items() if k != "size"})
        self.rows.append(row)
        self.filename.parent.mkdir(parents=True, exist_ok=True)
        _atomic_write(self.filename, self._before + self._render())

    def _render(self) -> str:
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        return {"rows": [dict(r) for r in self.rows], "before": self._before}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rows = [dict(r) for r in state["rows"]]
        self._before = state["before"]


class CSVLogger(_RowLogger):
    """One CSV row per epoch: ``epoch`` (counted from 1, as the progress lines
    and ModelCheckpoint's ``{epoch}``; Keras counts from 0) and every logged
    value (Keras's ``CSVLogger``). The header is the union of the names seen.

    Args:
        filename: the CSV file.
        separator: the field separator.
        append: keep the file's earlier content instead of overwriting it.
    """

    def __init__(self, filename: str | Path, separator: str = ",", append: bool = False) -> None:
        super().__init__(filename, append)
        self.separator = separator

    def _render(self) -> str:
        fields: list[str] = []
        for row in self.rows:
            fields.extend(k for k in row if k not in fields)
        out = io.StringIO()
        writer = csv.DictWriter(
            out, fieldnames=fields, delimiter=self.separator, lineterminator="\n", restval=""
        )
        if not self._before:
            writer.writeheader()
        writer.writerows(self.rows)
        return out.getvalue()


class JSONLogger(_RowLogger):
    """One JSON object per line and epoch (JSON lines; ``epoch`` counted
    from 1); nan and inf are written as null."""

    def _render(self) -> str:
        def clean(v: Any) -> Any:
            return None if isinstance(v, float) and not math.isfinite(v) else v

        return "".join(json.dumps({k: clean(v) for k, v in row.items()}) + "\n" for row in self.rows)
