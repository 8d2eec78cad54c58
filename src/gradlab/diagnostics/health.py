"""HealthMonitor: a Trainer callback that watches a run and names what is
wrong with it, each problem with its usual remedy (the rules are in
:mod:`gradlab.diagnostics.rules`).

Every ``every`` training batches (the first included) it records, through
forward hooks, the std of each hidden activation layer, the dead fraction
of each ReLU layer and the saturated fraction of each tanh/sigmoid layer;
before the optimizer step, ``||grad|| / ||W||`` of each weight matrix or
kernel; after it, the update-to-weight ratio. It keeps every batch's loss
and every epoch's logs, and, for the pictures, fixed-bin histograms of each
activation layer's output and of each weight's gradient per sample
(:mod:`gradlab.diagnostics.histograms`). :meth:`HealthMonitor.findings`
applies the rules, :meth:`HealthMonitor.report` writes them out,
:meth:`HealthMonitor.plot` draws ``diagnostics.png``.
"""

from __future__ import annotations

import math
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import numpy as np

from gradlab import nn
from gradlab.diagnostics.activations import module_kind, record_activations, summarize
from gradlab.diagnostics.gradients import as_host, update_ratio
from gradlab.diagnostics.histograms import activation_edges, binned, log_magnitude_counts
from gradlab.diagnostics.rules import (
    Finding,
    Thresholds,
    activation_findings,
    curve_findings,
    gradient_findings,
    loss_findings,
    update_findings,
)
from gradlab.train.callbacks.base import Callback

__all__ = ["HealthMonitor"]

# the layers whose output std is followed by depth: the activation functions
_ACTIVATIONS = tuple(
    getattr(nn, name)
    for name in (
        "ReLU",
        "Tanh",
        "Sigmoid",
        "LeakyReLU",
        "PReLU",
        "ELU",
        "SELU",
        "SiLU",
        "GELU",
        "Softplus",
        "Maxout",
    )
    if hasattr(nn, name)
)


class HealthMonitor(Callback):
    """Watch a training run and report its problems.

    Args:
        every: sample the activations, gradients and updates every this many
            training batches.
        window: batches per window of the loss rules (mean over a window).
        thresholds: where the rules fire (:class:`~gradlab.diagnostics.rules.Thresholds`).
        verbose: print the report at the end of training.
        plot: a PNG file to draw the diagnostics figure to at the end of
            training (:meth:`plot`), or None.

    Example:
        >>> monitor = HealthMonitor()
        >>> Trainer(model, opt, loss, callbacks=[monitor]).fit(train, val, epochs=3)
        >>> print(monitor.report())
    """

    def __init__(
        self, every: int = 10, window: int = 10, thresholds: Thresholds | None = None, verbose: bool = False,
        plot: str | Path | None = None,
    ) -> None:
        for name, value in (("every", every), ("window", window)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"HealthMonitor: {name} must be an integer >= 1, got {value!r}")
        if thresholds is not None and not isinstance(thresholds, Thresholds):
            raise TypeError(
                f"HealthMonitor: thresholds must be a Thresholds, got {type(thresholds).__name__}"
            )
        self.every, self.window = every, window
        self.thresholds = thresholds or Thresholds()
        self.verbose = verbose
        self.plot_path = None if plot is None else Path(plot)
        self._hooks: ExitStack | None = None
        self.reset()

    def reset(self) -> None:
        """Forget everything recorded."""
        self.losses: list[float] = []
        self.epochs: list[dict[str, float]] = []
        self.stds: list[dict[str, float]] = []
        self.dead: list[dict[str, float]] = []
        self.saturated: list[dict[str, float]] = []
        self.relative_grads: list[dict[str, float]] = []
        self.update_ratios: list[dict[str, float]] = []
        self.steps: list[int] = []  # the global step of each sampled batch
        self.activation_histograms: list[dict[str, list[int]]] = []
        self.gradient_histograms: list[dict[str, list[int]]] = []
        self.activation_edges: dict[str, list[float]] = {}  # fixed at each layer's first sample
        self.activation_kinds: dict[str, str] = {}  # "relu", "tanh", "sigmoid" or the class name
        self._sampling = False
        self._before: dict[str, np.ndarray] = {}

    _RECORDS = ("losses", "epochs", "stds", "dead", "saturated", "relative_grads", "update_ratios")
    # the pictures' records: optional in a saved state (checkpoints written before they existed)
    _PICTURES = (
        "steps", "activation_histograms", "gradient_histograms", "activation_edges", "activation_kinds"
    )

    def state_dict(self) -> dict[str, Any]:
        """Everything recorded so far, so that a resumed run's report covers
        the whole run (saved in run checkpoints)."""
        state: dict[str, Any] = {name: [dict(r) if isinstance(r, dict) else r for r in getattr(self, name)]
                                 for name in self._RECORDS}
        state.update({name: getattr(self, name) for name in self._PICTURES})
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        missing = [name for name in self._RECORDS if name not in state]
        if missing:
            raise ValueError(f"HealthMonitor state is missing {missing}; expected keys {list(self._RECORDS)}")
        self.reset()
        for name in self._RECORDS:
            setattr(self, name, [dict(r) if isinstance(r, dict) else float(r) for r in state[name]])
        self.steps = [int(s) for s in state.get("steps", [])]
        for name in ("activation_histograms", "gradient_histograms"):
            setattr(self, name, [{k: [int(c) for c in v] for k, v in r.items()} for r in state.get(name, [])])
        edges = state.get("activation_edges", {})
        self.activation_edges = {k: [float(e) for e in v] for k, v in edges.items()}
        self.activation_kinds = {k: str(v) for k, v in state.get("activation_kinds", {}).items()}

    # ---------------------------------------------------------------- hooks
    def _sink(self, name: str, module: nn.Module, out: Any) -> None:
        if not self._sampling:
            return
        kind = module_kind(module)
        s = summarize(name, kind, 0, out)
        if isinstance(module, _ACTIVATIONS):
            self.stds[-1][name] = s.std
            values = as_host(out)
            if name not in self.activation_edges:
                self.activation_edges[name] = activation_edges(kind, values).tolist()
                self.activation_kinds[name] = kind
            counts = binned(values, np.asarray(self.activation_edges[name]))
            self.activation_histograms[-1][name] = counts.tolist()
        if s.dead is not None:
            self.dead[-1][name] = s.dead
        if s.saturated is not None:
            self.saturated[-1][name] = s.saturated

    def _weights(self) -> list[tuple[str, Any]]:
        return [(n, p) for n, p in self.model.named_parameters() if p.ndim >= 2]

    def on_train_begin(self, logs: dict | None = None) -> None:
        if not (logs or {}).get("resumed"):
            self.reset()
        self._hooks = ExitStack()
        self._hooks.enter_context(record_activations(self.model, self._sink))

    def on_train_end(self, logs: dict | None = None) -> None:
        if self._hooks is not None:
            self._hooks.close()
            self._hooks = None
        if self.verbose:
            print(self.report())
        if self.plot_path is not None:
            self.plot(self.plot_path)

    def plot(self, path: str | Path) -> Path:
        """Draw the recorded run to the PNG ``path`` (see
        :func:`gradlab.diagnostics.plots.plot_diagnostics`)."""
        from gradlab.diagnostics.plots import plot_diagnostics

        return plot_diagnostics(self, path)

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        step = self.trainer.global_step if self.trainer is not None else len(self.losses)
        self._sampling = step % self.every == 0
        if self._sampling:
            self.steps.append(step)
            self.stds.append({})
            self.dead.append({})
            self.saturated.append({})
            self.activation_histograms.append({})
            self.gradient_histograms.append({})

    def on_before_optimizer_step(self, batch: int, logs: dict | None = None) -> None:
        if not self._sampling:
            return
        relative = {}
        for name, p in self._weights():
            if p.grad is None:
                continue
            weight = float(np.linalg.norm(as_host(p.array)))
            g = as_host(p.grad.array)
            grad = float(np.linalg.norm(g))
            self.gradient_histograms[-1][name] = log_magnitude_counts(g).tolist()
            relative[name] = grad / weight if weight > 0 else (0.0 if grad == 0 else math.inf)
            self._before[name] = as_host(p.array).copy()
        self.relative_grads.append(relative)

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self.losses.append(float((logs or {}).get("loss", math.nan)))
        if self._before and not (self.trainer is not None and self.trainer.stop_training):
            params = dict(self._weights())
            self.update_ratios.append({n: update_ratio(w, params[n].array) for n, w in self._before.items()})
        self._before = {}
        self._sampling = False

    def on_test_begin(self, logs: dict | None = None) -> None:
        self._sampling = False  # evaluation forwards are not training samples

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.epochs.append({k: float(v) for k, v in (logs or {}).items() if isinstance(v, (int, float))})

    # --------------------------------------------------------------- report
    def findings(self) -> list[Finding]:
        """The problems the recorded run shows, most basic first (loss, then
        activations, gradients, updates, and the train/val curves)."""
        t = self.thresholds
        initial = None
        if self.losses:
            head = [v for v in self.losses[: self.window] if math.isfinite(v)]
            initial = sum(head) / len(head) if head else None
        loss = loss_findings(self.losses, self.window, t)
        # the train/val curves of a diverged run say nothing more about fitting
        curves = (
            [] if any(f.code == "diverging_loss" for f in loss) else curve_findings(self.epochs, initial, t)
        )
        return [
            *loss,
            *activation_findings(self.stds, self.dead, self.saturated, t),
            *gradient_findings(self.relative_grads, t),
            *update_findings(self.update_ratios, t),
            *curves,
        ]

    def report(self) -> str:
        """One line per finding with its remedy, or a line saying none was found."""
        found = self.findings()
        head = (
            f"HealthMonitor: {len(self.losses)} batches, {len(self.epochs)} epochs, "
            f"{len(self.stds)} sampled batches"
        )
        if not found:
            return f"{head}\nno problem found"
        return "\n".join([head, *(f"- {f}" for f in found)])
