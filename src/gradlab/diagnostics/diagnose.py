"""``gradlab diagnose``: a short training of a recipe watched by a
:class:`~gradlab.diagnostics.HealthMonitor`, then its report and, if asked,
its figure (``diagnostics.png``)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from gradlab.diagnostics.health import HealthMonitor

__all__ = ["diagnose"]


def diagnose(config: dict[str, Any], epochs: int = 3, every: int = 5, out: Any = None,
             plot: str | Path | None = None) -> HealthMonitor:
    """Train the recipe of ``config`` (see :mod:`gradlab.train.recipe`) for
    at most ``epochs`` epochs with a HealthMonitor, write its report to
    ``out`` (stdout by default) and return the monitor. Nothing is written
    to disk but the figure ``plot``, if given.

    Args:
        config: a resolved configuration (``recipe.resolve_config(...)``).
        epochs: the length of the short run (the config's ``epochs`` if smaller).
        every: the monitor's sampling interval in batches.
        plot: a PNG path for the figure of the run
            (:func:`~gradlab.diagnostics.plots.plot_diagnostics`), or None.
    """
    from gradlab.train import recipe
    from gradlab.train.run import blas_threads

    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be an integer >= 1, got {epochs!r}")
    out = out or sys.stdout
    monitor = HealthMonitor(every=every, plot=plot)
    parts = recipe.build(config, extra_callbacks=[monitor])
    epochs = min(epochs, config["epochs"]) if config["epochs"] else epochs
    out.write(
        f"diagnosing {config['model']['name']} on {config['data']['name']}: {epochs} epochs of "
        f"{len(parts.train_loader)} batches\n"
    )
    with blas_threads(config["threads"]):
        parts.trainer.fit(parts.train_loader, parts.val_loader, epochs=epochs)
    out.write(monitor.report() + "\n")
    if plot is not None:
        out.write(f"figure: {plot}\n")
    out.flush()
    return monitor
