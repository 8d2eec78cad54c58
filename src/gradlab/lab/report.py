"""``Report``: what one lab experiment found, as numbers, tables, figures and
the claims it checked, written out as JSON, PNG and a Markdown page."""

from __future__ import annotations

import json
import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gradlab.io import chmod_default

__all__ = ["Claim", "Report", "Table"]


@dataclass
class Claim:
    """A statement from the lectures and whether this run bears it out.

    ``evidence`` is the measured comparison, written from the run's own
    numbers (e.g. "std at layer 10: 3.1e-07 vs 0.94").
    """

    statement: str
    holds: bool
    evidence: str = ""


@dataclass
class Table:
    """A table of results: column names and rows of values."""

    name: str
    columns: list[str]
    rows: list[list[Any]]
    caption: str = ""

    def to_markdown(self) -> str:
        header = "| " + " | ".join(self.columns) + " |"
        rule = "|" + "|".join("---" for _ in self.columns) + "|"
        body = ["| " + " | ".join(_cell(v) for v in row) + " |" for row in self.rows]
        caption = [f"*{self.caption}*", ""] if self.caption else []
        return "\n".join([*caption, header, rule, *body])


@dataclass
class _Figure:
    name: str
    figure: Any  # matplotlib.figure.Figure
    caption: str


def _cell(value: Any) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if not math.isfinite(value):
            return str(value)
        if value == 0.0:
            return "0"
        if 1e-3 <= abs(value) < 1e5:
            return f"{value:.4g}"
        return f"{value:.3e}"
    return str(value)


def jsonable(value: Any) -> Any:
    """``value`` with NumPy scalars and arrays turned into Python numbers and
    lists, and non-finite floats into the strings "nan", "inf", "-inf"
    (strict JSON has no such numbers)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else str(value)
    if value is None or isinstance(value, str):
        return value
    raise TypeError(f"a report number must be a number, string, list or dict, got {type(value).__name__}")


@dataclass
class Report:
    """The result of one experiment.

    An experiment fills a report as it runs: ``numbers`` (a JSON-able dict of
    everything it measured), tables, matplotlib figures, and the claims it
    tested with :meth:`claim`. :meth:`write` saves it as ``numbers.json``, one
    PNG per figure and a ``README.md`` page that links them. Nothing in a
    report is typed in: every value comes from the run.

    Example:
        >>> report = gradlab.lab.run("init-activations", quick=True)
        >>> report.headline
        >>> all(c.holds for c in report.claims)
        >>> report.write("lab/init-activations")
    """

    name: str
    title: str
    description: str = ""
    quick: bool = False
    seed: int = 0
    numbers: dict[str, Any] = field(default_factory=dict)
    tables: list[Table] = field(default_factory=list)
    figures: list[_Figure] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    headline: str = ""
    seconds: float = 0.0

    def table(self, name: str, columns: list[str], rows: list[list[Any]], caption: str = "") -> Table:
        """Add a table (and its rows to ``numbers["tables"][name]``)."""
        for i, row in enumerate(rows):
            if len(row) != len(columns):
                raise ValueError(
                    f"table {name!r}: row {i} has {len(row)} values, expected {len(columns)} "
                    f"(columns {columns})"
                )
        table = Table(name, list(columns), [list(r) for r in rows], caption)
        self.tables.append(table)
        return table

    def figure(self, name: str, caption: str = "", nrows: int = 1, ncols: int = 1,
               size: tuple[float, float] | None = None) -> tuple[Any, Any]:
        """A new matplotlib figure saved as ``<name>.png`` by :meth:`write`;
        returns ``(figure, axes)`` as ``plt.subplots`` does, without touching
        pyplot's global state."""
        from matplotlib.figure import Figure

        if any(f.name == name for f in self.figures):
            raise ValueError(f"report {self.name!r} already has a figure named {name!r}")
        fig = Figure(figsize=size or (4.5 * ncols, 3.4 * nrows), layout="constrained")
        axes = fig.subplots(nrows, ncols, squeeze=True)
        self.figures.append(_Figure(name, fig, caption))
        return fig, axes

    def claim(self, statement: str, holds: bool, evidence: str = "") -> bool:
        """Record whether ``statement`` holds in this run; returns ``holds``."""
        self.claims.append(Claim(statement, bool(holds), evidence))
        return bool(holds)

    def note(self, text: str) -> None:
        """A paragraph of explanation for the Markdown page."""
        self.notes.append(text)

    def to_json(self) -> dict[str, Any]:
        """Everything the run measured, as a JSON-able dict."""
        return jsonable({
            "name": self.name,
            "title": self.title,
            "quick": self.quick,
            "seed": self.seed,
            "seconds": round(self.seconds, 2),
            "headline": self.headline,
            "claims": [{"statement": c.statement, "holds": c.holds, "evidence": c.evidence}
                       for c in self.claims],
            "numbers": self.numbers,
            "tables": {t.name: {"columns": t.columns, "rows": t.rows} for t in self.tables},
        })

    def to_markdown(self) -> str:
        """The report as a Markdown page; figures are linked as ``<name>.png``."""
        mode = "quick run" if self.quick else "full run"
        lines = [f"# {self.title}", "", f"`gradlab experiment run {self.name}` — {mode}, seed "
                 f"{self.seed}, {self.seconds:.1f} s. Numbers: [numbers.json](numbers.json).", ""]
        if self.description:
            lines += [self.description, ""]
        if self.headline:
            lines += [f"**{self.headline}**", ""]
        if self.claims:
            lines += ["## Claims", ""]
            for c in self.claims:
                mark = "holds" if c.holds else "DOES NOT HOLD"
                evidence = f" ({c.evidence})" if c.evidence else ""
                lines.append(f"- {c.statement} — **{mark}**{evidence}")
            lines.append("")
        for text in self.notes:
            lines += [text, ""]
        for table in self.tables:
            lines += [f"## {table.name}", "", table.to_markdown(), ""]
        for f in self.figures:
            lines += [f"![{f.caption or f.name}]({f.name}.png)", ""]
            if f.caption:
                lines += [f"*{f.caption}*", ""]
        return "\n".join(lines)

    def write(self, out_dir: str | os.PathLike[str]) -> Path:
        """Write ``numbers.json``, the figures as PNG and ``README.md`` into
        ``out_dir`` (created if needed; each file replaced atomically).
        Returns the path of the Markdown page."""
        out = Path(out_dir)
        if out.exists() and not out.is_dir():
            raise NotADirectoryError(f"report folder {str(out)!r} exists and is not a folder")
        out.mkdir(parents=True, exist_ok=True)
        _replace(out / "numbers.json", json.dumps(self.to_json(), indent=2).encode())
        for f in self.figures:
            with tempfile.NamedTemporaryFile(dir=out, suffix=".png", delete=False) as tmp:
                try:
                    f.figure.savefig(tmp, format="png", dpi=110)
                except BaseException:
                    tmp.close()
                    os.unlink(tmp.name)
                    raise
            chmod_default(tmp.name)  # NamedTemporaryFile makes 0600 files
            os.replace(tmp.name, out / f"{f.name}.png")
        page = out / "README.md"
        _replace(page, self.to_markdown().encode())
        return page

    def summary(self) -> str:
        """A few lines for a terminal: the headline and each claim."""
        lines = [f"{self.title} ({'quick' if self.quick else 'full'}, seed {self.seed}, "
                 f"{self.seconds:.1f} s)"]
        if self.headline:
            lines.append(f"  {self.headline}")
        for c in self.claims:
            lines.append(f"  [{'ok' if c.holds else 'NO'}] {c.statement}"
                         + (f" ({c.evidence})" if c.evidence else ""))
        return "\n".join(lines)


def _replace(path: Path, data: bytes) -> None:
    with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as tmp:
        tmp.write(data)
    chmod_default(tmp.name)  # NamedTemporaryFile makes 0600 files
    os.replace(tmp.name, path)
