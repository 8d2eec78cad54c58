"""The rules of :class:`~gradlab.diagnostics.HealthMonitor`: each names one
problem of a training run and its usual remedy in one sentence.

The thresholds follow the lectures' rules of thumb (cs231n, "babysitting the
learning process"; Glorot & Bengio, 2010): activations should keep their
scale with depth, update-to-weight ratios sit near 1e-3, a ReLU unit that
is 0 for a whole batch learns nothing, a tanh or sigmoid unit near its
bounds passes almost no gradient. They are generous on purpose: a finding
should mean that something is clearly wrong.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import median

__all__ = [
    "REMEDIES",
    "Finding",
    "Thresholds",
    "activation_findings",
    "curve_findings",
    "gradient_findings",
    "loss_findings",
    "update_findings",
]

REMEDIES: dict[str, tuple[str, str]] = {
    "vanishing_activations": (
        "vanishing activations",
        "Initialize with Xavier (tanh, sigmoid) or He (ReLU) scaling, or add batch normalization.",
    ),
    "exploding_activations": (
        "exploding activations",
        "Scale the initial weights down (Xavier or He initialization) or add normalization layers.",
    ),
    "vanishing_gradients": (
        "vanishing gradients",
        "Use ReLU-family activations with He initialization, batch normalization or residual connections.",
    ),
    "exploding_gradients": (
        "exploding gradients",
        "Clip the gradient norm (grad_clip), lower the learning rate or add normalization layers.",
    ),
    "dead_relus": (
        "dead ReLUs",
        "Lower the learning rate, start the biases at zero, use He initialization or a LeakyReLU/ELU.",
    ),
    "saturated_units": (
        "saturated units",
        "Scale the inputs and initial weights down (Xavier), add batch normalization or use ReLU.",
    ),
    "large_updates": (
        "update-to-weight ratios far above ~1e-3",
        "Lower the learning rate: steps this large relative to the weights make training unstable.",
    ),
    "small_updates": (
        "update-to-weight ratios far below ~1e-3",
        "Raise the learning rate: the weights barely move.",
    ),
    "diverging_loss": (
        "diverging loss",
        "Lower the learning rate 3-10x (lr_find suggests one) or clip the gradients.",
    ),
    "plateaued_loss": (
        "plateaued loss",
        "Raise the learning rate, or check the labels, the input scaling and the initialization.",
    ),
    "overfitting": (
        "overfitting",
        "Add regularization (weight decay, dropout, augmentation), get more data or stop earlier.",
    ),
    "underfitting": (
        "underfitting",
        "Use a larger model, train longer or with a higher learning rate, or regularize less.",
    ),
}


@dataclass(frozen=True)
class Finding:
    """One problem: ``code`` (a key of :data:`REMEDIES`), its name, the
    numbers that show it, and the remedy."""

    code: str
    problem: str
    evidence: str
    remedy: str

    def __str__(self) -> str:
        return f"{self.problem}: {self.evidence}. Remedy: {self.remedy}"


def finding(code: str, evidence: str) -> Finding:
    problem, remedy = REMEDIES[code]
    return Finding(code, problem, evidence, remedy)


@dataclass
class Thresholds:
    """Where each rule fires.

    Attributes:
        depth_ratio: an activation layer whose std is below the first
            activation layer's over ``depth_ratio`` is vanishing, above it
            times ``depth_ratio`` exploding; the same for the relative
            gradient of the first weight against the last.
        tiny_std, huge_std: absolute activation std limits.
        dead: fraction of dead units in a ReLU layer.
        saturated: fraction of saturated outputs in a tanh/sigmoid layer.
        update_high, update_low: median update-to-weight ratio limits
            (around cs231n's ~1e-3).
        diverge: the last window's mean loss above this many times the best
            window's (and above the first window's) is divergence; so is a
            batch loss above ``spike`` times the first window's mean.
        plateau: the best window improves on the first by less than this
            fraction: a plateau.
        overfit: val loss above this many times its best while the training
            loss still falls; or train minus val accuracy above ``overfit_gap``.
        underfit: the final training and validation losses both above this
            fraction of the initial loss.
    """

    depth_ratio: float = 100.0
    tiny_std: float = 1e-3
    huge_std: float = 1e3
    dead: float = 0.5
    saturated: float = 0.3
    update_high: float = 1e-1
    update_low: float = 1e-6
    diverge: float = 2.0
    spike: float = 1.5
    plateau: float = 0.02
    overfit: float = 1.1
    overfit_gap: float = 0.15
    underfit: float = 0.6


def _by_depth(samples: list[dict[str, float]]) -> list[tuple[str, float]]:
    """Median of each named value over the samples, in first-seen order."""
    names: list[str] = []
    for sample in samples:
        names += [n for n in sample if n not in names]
    return [(n, median(s[n] for s in samples if n in s)) for n in names]


def activation_findings(
    stds: list[dict[str, float]],
    dead: list[dict[str, float]],
    saturated: list[dict[str, float]],
    t: Thresholds,
) -> list[Finding]:
    """``stds``: per sampled batch, the std of each hidden activation layer
    (in depth order); ``dead`` / ``saturated``: the fractions of the ReLU and
    tanh/sigmoid layers."""
    found = []
    worst_dead = [(n, v) for n, v in _by_depth(dead) if v > t.dead]
    dead_names = {n for n, _ in worst_dead}
    # a dead layer's std is 0 for another reason, reported below
    layers = [(n, v) for n, v in _by_depth(stds) if n not in dead_names]
    if len(layers) >= 2:
        first_name, first = layers[0]
        low_name, low = min(layers[1:], key=lambda item: item[1])
        high_name, high = max(layers[1:], key=lambda item: item[1])
        if low < t.tiny_std or low < first / t.depth_ratio:
            shown = f"std {first:.3g} at layer {first_name} -> {low:.3g} at layer {low_name}"
            found.append(finding("vanishing_activations", f"{shown} ({len(layers)} activation layers)"))
        elif high > t.huge_std or high > first * t.depth_ratio:
            shown = f"std {first:.3g} at layer {first_name} -> {high:.3g} at layer {high_name}"
            found.append(finding("exploding_activations", f"{shown} ({len(layers)} activation layers)"))
    if worst_dead:
        found.append(finding("dead_relus", ", ".join(f"{v:.0%} of layer {n} dead" for n, v in worst_dead)))
    worst_sat = [(n, v) for n, v in _by_depth(saturated) if v > t.saturated]
    if worst_sat:
        found.append(
            finding("saturated_units", ", ".join(f"{v:.0%} of layer {n} saturated" for n, v in worst_sat))
        )
    return found


def gradient_findings(relative: list[dict[str, float]], t: Thresholds) -> list[Finding]:
    """``relative``: per sampled step, ``||grad|| / ||W||`` of each weight
    matrix or kernel in depth order (a non-finite value is an explosion)."""
    layers = _by_depth(relative)
    bad = [n for n, v in layers if not math.isfinite(v)]
    if bad:
        return [finding("exploding_gradients", f"non-finite gradients in {', '.join(bad)}")]
    if len(layers) < 2:
        return []
    (first_name, first), (last_name, last) = layers[0], layers[-1]
    if last == 0:
        return []
    ratio = first / last
    shown = (
        f"relative gradient ||g||/||W|| {first:.3g} at {first_name} vs {last:.3g} at {last_name} "
        f"({len(layers)} layers)"
    )
    if ratio < 1 / t.depth_ratio:
        return [finding("vanishing_gradients", shown)]
    if ratio > t.depth_ratio:
        return [finding("exploding_gradients", shown)]
    return []


def update_findings(ratios: list[dict[str, float]], t: Thresholds) -> list[Finding]:
    """``ratios``: per sampled step, each weight's update-to-weight ratio."""
    values = [v for sample in ratios for v in sample.values() if math.isfinite(v)]
    if not values:
        return []
    typical = median(values)
    shown = f"median {typical:.2g} over {len(values)} weight updates"
    if typical > t.update_high:
        return [finding("large_updates", shown)]
    if typical < t.update_low:
        return [finding("small_updates", shown)]
    return []


def loss_findings(losses: list[float], window: int, t: Thresholds) -> list[Finding]:
    """``losses``: the training loss of every batch, in order."""
    bad = [i for i, v in enumerate(losses) if not math.isfinite(v)]
    if bad:
        return [finding("diverging_loss", f"the loss became {losses[bad[0]]} at batch {bad[0]}")]
    if len(losses) < 2 * window:
        return []
    means = [sum(losses[i : i + window]) / window for i in range(0, len(losses) - window + 1, window)]
    first, best, last = means[0], min(means), means[-1]
    if last > t.diverge * best and last > first:
        return [finding("diverging_loss", f"mean loss {first:.3g} at first, best {best:.3g}, now {last:.3g}")]
    peak = max(range(window, len(losses)), key=losses.__getitem__)
    if losses[peak] > t.spike * first:
        return [
            finding("diverging_loss", f"mean loss {first:.3g} at first, {losses[peak]:.3g} at batch {peak}")
        ]
    if first - best < t.plateau * abs(first):
        return [
            finding(
                "plateaued_loss",
                f"mean loss {first:.4g} at first, best {best:.4g} over {len(losses)} batches",
            )
        ]
    return []


def curve_findings(
    epochs: list[dict[str, float]], initial_loss: float | None, t: Thresholds
) -> list[Finding]:
    """Over- and underfitting from the epoch logs (``loss``, ``val_loss``,
    and ``accuracy`` / ``val_accuracy`` when logged)."""
    rows = [e for e in epochs if "val_loss" in e and "loss" in e]
    if len(rows) < 2:
        return []
    val = [r["val_loss"] for r in rows]
    train = [r["loss"] for r in rows]
    best = min(range(len(val)), key=val.__getitem__)
    last = rows[-1]
    if val[-1] > t.overfit * val[best] and train[-1] < train[best]:
        return [
            finding(
                "overfitting",
                f"val loss {val[best]:.3g} at epoch {best}, {val[-1]:.3g} now, "
                f"while the training loss fell {train[best]:.3g} -> {train[-1]:.3g}",
            )
        ]
    if (
        "accuracy" in last
        and "val_accuracy" in last
        and last["accuracy"] - last["val_accuracy"] > t.overfit_gap
    ):
        return [
            finding("overfitting", f"train accuracy {last['accuracy']:.1%} vs val {last['val_accuracy']:.1%}")
        ]
    start = initial_loss if initial_loss is not None else train[0]
    if min(train[-1], val[-1]) > t.underfit * start:
        return [
            finding(
                "underfitting",
                f"training loss {start:.3g} -> {train[-1]:.3g} and val loss {val[-1]:.3g}: both still high",
            )
        ]
    return []
