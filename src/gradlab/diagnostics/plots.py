"""``diagnostics.png``: a HealthMonitor's record of a run as one figure.

Three rows, every x axis the training step:

1. per activation layer, its output histograms over training as an image
   (value x time, colour: the fraction of the batch's values in each bin,
   on a log scale): fastai's "colorful dimension"
   (course lesson 16, ``ActivationStats``). A healthy layer shows a steady
   band; a collapse to one bin is vanishing or dead units, a band pressed
   against the bounds is saturation;
2. per weight, the histograms of ``log10 |gradient|`` the same way;
3. the training loss, the update-to-weight ratio of each weight on a log
   scale with cs231n's ~1e-3 guide line, and the dead (ReLU) and saturated
   (tanh, sigmoid) fractions.

Each problem the monitor's rules found is listed at the top and marked where
it shows: the layers it names are framed in red, the thresholds it crossed
drawn as red lines. :func:`diagnostics_data` gathers the plotted numbers
(tested against the monitor's records); :func:`plot_diagnostics` draws them.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gradlab.diagnostics.histograms import GRAD_EDGES
from gradlab.diagnostics.rules import Finding, Thresholds

if TYPE_CHECKING:
    from gradlab.diagnostics.health import HealthMonitor

__all__ = ["DiagnosticsData", "diagnostics_data", "plot_diagnostics"]

MAX_PANELS = 6  # histogram images per row; more layers are sampled evenly, first and last kept
_RED = "#d62728"


@dataclass
class DiagnosticsData:
    """The numbers of the figure. Images are (bins, samples) count arrays,
    columns in the order of ``steps`` (NaN where a layer was not seen)."""

    steps: list[int]
    activation_images: dict[str, np.ndarray]
    activation_edges: dict[str, np.ndarray]
    activation_kinds: dict[str, str]
    gradient_images: dict[str, np.ndarray]
    gradient_edges: np.ndarray
    losses: list[float]
    update_ratios: dict[str, list[float]]
    update_steps: list[int]
    dead: dict[str, list[float]]
    saturated: dict[str, list[float]]
    findings: list[Finding]
    thresholds: Thresholds = field(default_factory=Thresholds)


def _names(samples: list[dict[str, Any]]) -> list[str]:
    names: list[str] = []
    for sample in samples:
        names += [n for n in sample if n not in names]
    return names


def _image(samples: list[dict[str, list[int]]], name: str, bins: int) -> np.ndarray:
    columns = [np.asarray(s[name], dtype=float) if name in s else np.full(bins, np.nan) for s in samples]
    return np.stack(columns, axis=1) if columns else np.zeros((bins, 0))


def _series(samples: list[dict[str, float]], name: str) -> list[float]:
    return [float(s.get(name, math.nan)) for s in samples]


def diagnostics_data(monitor: HealthMonitor) -> DiagnosticsData:
    """Gather what :func:`plot_diagnostics` draws from a monitor's records."""
    steps = list(monitor.steps)
    act_edges = {n: np.asarray(e) for n, e in monitor.activation_edges.items()}
    act_images = {
        n: _image(monitor.activation_histograms, n, len(act_edges[n]) - 1)
        for n in _names(monitor.activation_histograms)
    }
    grad_images = {
        n: _image(monitor.gradient_histograms, n, len(GRAD_EDGES) - 1)
        for n in _names(monitor.gradient_histograms)
    }
    return DiagnosticsData(
        steps=steps,
        activation_images=act_images,
        activation_edges=act_edges,
        activation_kinds=dict(monitor.activation_kinds),
        gradient_images=grad_images,
        gradient_edges=GRAD_EDGES.copy(),
        losses=list(monitor.losses),
        update_ratios={n: _series(monitor.update_ratios, n) for n in _names(monitor.update_ratios)},
        update_steps=steps[: len(monitor.update_ratios)],
        dead={n: _series(monitor.dead, n) for n in _names(monitor.dead)},
        saturated={n: _series(monitor.saturated, n) for n in _names(monitor.saturated)},
        findings=monitor.findings(),
        thresholds=monitor.thresholds,
    )


def _shown(names: list[str], flagged: list[str]) -> list[str]:
    """At most MAX_PANELS names: the flagged ones first, then evenly spaced
    others, in depth order."""
    if len(names) <= MAX_PANELS:
        return names
    keep = set(flagged[:MAX_PANELS])
    evenly = [names[i] for i in np.linspace(0, len(names) - 1, MAX_PANELS).round().astype(int)]
    for name in evenly + names:
        if len(keep) >= MAX_PANELS:
            break
        keep.add(name)
    return [n for n in names if n in keep]


def _named_in(name: str, findings: list[Finding]) -> list[Finding]:
    pattern = re.compile(rf"(?<![\w.]){re.escape(name)}(?![\w.])")
    return [f for f in findings if pattern.search(f.evidence)]


def _histogram_row(fig: Any, images: dict[str, np.ndarray], edges: Any, steps: list[int], title: str,
                   ylabel: str, findings: list[Finding], codes: tuple[str, ...],
                   kinds: dict[str, str] | None = None) -> None:
    from matplotlib.colors import LogNorm

    names = list(images)
    relevant = [f for f in findings if f.code in codes]
    shown = _shown(names, [n for n in names if _named_in(n, relevant)])
    more = f" ({len(shown)} of {len(names)} layers)" if len(shown) < len(names) else ""
    fig.suptitle(title + more, fontsize=12, color=_RED if relevant else "black", fontweight="bold")
    if not shown:
        ax = fig.subplots()
        ax.axis("off")
        ax.text(0.5, 0.5, "nothing recorded", ha="center", va="center")
        return
    axes = np.atleast_1d(fig.subplots(1, len(shown)))
    x0, x1 = (steps[0], steps[-1] + 1) if steps else (0, 1)
    for ax, name in zip(axes, shown):
        layer_edges = edges[name] if isinstance(edges, dict) else edges
        counts = images[name]
        with np.errstate(invalid="ignore", divide="ignore"):
            # a fraction per column: a smaller last batch of an epoch does not look like a change
            image = counts / counts.sum(axis=0, keepdims=True)
        mesh = ax.imshow(np.where(image > 0, image, np.nan), aspect="auto", origin="lower", cmap="viridis",
                         interpolation="nearest", norm=LogNorm(vmin=1e-4, vmax=1.0),
                         extent=(x0, x1, float(layer_edges[0]), float(layer_edges[-1])))
        ax.set_facecolor("#1a0a2e")  # empty bins: darker than the smallest fraction
        label = f"{name} ({kinds[name]})" if kinds and name in kinds else name
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("training step")
        hit = _named_in(name, relevant)
        if hit:
            for spine in ax.spines.values():
                spine.set_edgecolor(_RED)
                spine.set_linewidth(3)
            ax.set_title(f"{label}\n{hit[0].problem}", fontsize=10, color=_RED)
    axes[0].set_ylabel(ylabel)
    fig.colorbar(mesh, ax=list(axes), label="fraction of values", fraction=0.02, pad=0.01)


def _loss_panel(ax: Any, data: DiagnosticsData) -> None:
    ax.plot(range(len(data.losses)), data.losses, color="tab:blue", lw=1, label="batch loss")
    ax.set_title("training loss")
    ax.set_xlabel("training step")
    ax.set_ylabel("loss")
    curve = [f for f in data.findings if f.code in ("diverging_loss", "plateaued_loss", "overfitting",
                                                       "underfitting")]
    if curve:
        ax.set_title(f"training loss: {', '.join(f.problem for f in curve)}", color=_RED)
    ax.legend(loc="upper right", fontsize=8)


def _update_panel(ax: Any, data: DiagnosticsData) -> None:
    for name, values in data.update_ratios.items():
        ax.plot(data.update_steps, values, lw=1, label=name)
    ax.set_yscale("log")
    ax.axhline(1e-3, color="black", ls="--", lw=1.2, label="1e-3 guide")
    t = data.thresholds
    found = [f for f in data.findings if f.code in ("large_updates", "small_updates")]
    for f in found:
        level = t.update_high if f.code == "large_updates" else t.update_low
        ax.axhline(level, color=_RED, ls=":", lw=1.5, label=f"{f.problem} (limit {level:g})")
    ax.set_title("update / weight ratio" + (f": {found[0].problem}" if found else ""),
                 color=_RED if found else "black")
    ax.set_xlabel("training step")
    ax.set_ylabel("||dW|| / ||W|| (log scale)")
    ax.legend(loc="best", fontsize=7, ncol=2)


def _fraction_panel(ax: Any, data: DiagnosticsData) -> None:
    steps = data.steps
    for name, values in data.dead.items():
        ax.plot(steps[: len(values)], values, lw=1.2, label=f"{name} dead")
    for name, values in data.saturated.items():
        ax.plot(steps[: len(values)], values, lw=1.2, ls="--", label=f"{name} saturated")
    t = data.thresholds
    found = [f for f in data.findings if f.code in ("dead_relus", "saturated_units")]
    for f in found:
        level = t.dead if f.code == "dead_relus" else t.saturated
        ax.axhline(level, color=_RED, ls=":", lw=1.5, label=f"{f.problem} (limit {level:.0%})")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title("dead and saturated fractions" + (f": {found[0].problem}" if found else ""),
                 color=_RED if found else "black")
    ax.set_xlabel("training step")
    ax.set_ylabel("fraction of units")
    if data.dead or data.saturated:
        ax.legend(loc="best", fontsize=7)
    else:
        ax.text(0.5, 0.5, "no ReLU, tanh or sigmoid layer", ha="center", va="center", transform=ax.transAxes)


def plot_diagnostics(monitor: HealthMonitor, path: str | Path) -> Path:
    """Draw ``diagnostics.png`` (or any PNG ``path``) from a monitor's
    records; returns the path. Uses matplotlib's Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = diagnostics_data(monitor)
    lines = [f"- {f.problem}: {f.evidence}" for f in data.findings] or ["no problem found"]
    fig = plt.figure(figsize=(16, 13.5 + 0.22 * len(lines)), layout="constrained")
    head, act, grad, curves = fig.subfigures(4, 1, height_ratios=[0.5 + 0.22 * len(lines), 4, 4, 4.2])
    head.suptitle("gradlab diagnostics", fontsize=15, fontweight="bold")
    head.text(0.01, 0.02, "\n".join(lines), fontsize=10, va="bottom", family="monospace",
              color=_RED if data.findings else "darkgreen")
    _histogram_row(act, data.activation_images, data.activation_edges, data.steps,
                   "activation histograms per layer over training (value x step)", "activation value",
                   data.findings, ("vanishing_activations", "exploding_activations", "dead_relus",
                                   "saturated_units"), data.activation_kinds)
    _histogram_row(grad, data.gradient_images, data.gradient_edges, data.steps,
                   "gradient histograms per weight over training", "log10 |gradient|",
                   data.findings, ("vanishing_gradients", "exploding_gradients"))
    axes = curves.subplots(1, 3)
    _loss_panel(axes[0], data)
    _update_panel(axes[1], data)
    _fraction_panel(axes[2], data)
    path = Path(path)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path
