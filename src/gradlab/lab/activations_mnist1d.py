"""ReLU vs tanh vs sigmoid on MNIST-1D's CNN: SGD steps to a training-error target.

Lecture 001 ("ReLU": converges "e.g. 6x" faster than sigmoid/tanh).
Krizhevsky, Sutskever & Hinton (2012), Figure 1: a four-layer CNN on
CIFAR-10 reached 25% training error six times faster with ReLU than with
tanh, each network with its own best learning rate. The lab's
``activations`` experiment measures this on an MLP on the 8x8 digits, where
tanh is not slower; here it is a CNN, as in the paper: the MNIST-1D CNN of
Greydanus (2020) (three Conv1d layers of 25 channels and a Linear layer, four
layers like Krizhevsky et al.'s), PyTorch's default initialization, SGD with
momentum 0.9, batch 100, no regularization, on the 4,000 training signals.
Every ``CHECK`` steps the error on the whole training set is measured; a run
stops when it reaches the target. Each activation gets its fastest learning
rate from a grid.
"""

from __future__ import annotations

import numpy as np

from gradlab import optim
from gradlab.lab._common import (
    cnn1d,
    evaluate,
    first_reaching,
    mnist1d_data,
    seeded,
    single_thread,
    train_steps,
)
from gradlab.lab.report import Report

NAME = "activations-mnist1d"
KINDS = ("relu", "tanh", "sigmoid")
CHECK = 50


def _race(kind: str, lr: float, data, seed: int, max_steps: int,  # noqa: ANN001
          target: float) -> tuple[list[int], list[float]]:
    rng = seeded(seed)
    model = cnn1d(activation=kind)
    opt = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    steps: list[int] = []
    errors: list[float] = []

    def check(step: int) -> bool:
        error = 1.0 - evaluate(model, data.x_train, data.y_train)[1]
        steps.append(step)
        errors.append(error)
        return error <= target or not np.isfinite(error)

    train_steps(model, opt, data, max_steps, 100, rng, every=CHECK, on_check=check)
    return steps, errors


def run(quick: bool = False, seed: int = 0) -> Report:
    report = Report(name=NAME, title="Activation functions on a CNN (MNIST-1D): steps to a training-error "
                    "target", description=__doc__.strip().split("\n", 1)[1].strip(), quick=quick, seed=seed)
    data = mnist1d_data()
    target = 0.5 if quick else 0.25
    max_steps = 500 if quick else 2000
    lr_grid = [0.05] if quick else [0.03, 0.1]
    best: dict[str, dict] = {}
    rows = []
    with single_thread():
        for kind in KINDS:
            for lr in lr_grid:
                steps, errors = _race(kind, lr, data, seed, max_steps, target)
                reached = first_reaching(steps, errors, target, above=False)
                rows.append([kind, lr, reached if reached is not None else f"> {max_steps}", errors[-1]])
                cost = reached if reached is not None else float("inf")
                # the fastest rate; among rates that miss the target, the one that got closest
                key = (cost, errors[-1])
                if kind not in best or key < (best[kind]["cost"], best[kind]["curve_errors"][-1]):
                    best[kind] = {"cost": cost, "lr": lr, "steps": reached, "curve_steps": steps,
                                  "curve_errors": errors}
    report.table("race", ["activation", "lr", f"steps to {target:.0%} train error", "last train error"],
                 rows, caption=f"MNIST-1D CNN, SGD momentum 0.9, batch 100; training error on all 4,000 "
                               f"signals every {CHECK} steps; a run stops at the target or {max_steps} steps")
    cost = {k: best[k]["cost"] for k in KINDS}
    ratio = {k: cost[k] / cost["relu"] for k in ("tanh", "sigmoid")}
    report.numbers["race"] = {
        "target": target, "max_steps": max_steps, "lr_grid": lr_grid, "check_every": CHECK,
        "steps": {k: best[k]["steps"] for k in KINDS}, "lr": {k: best[k]["lr"] for k in KINDS},
        "ratio_to_relu": {k: (v if np.isfinite(v) else None) for k, v in ratio.items()},
        "curves": {k: {"steps": best[k]["curve_steps"], "errors": best[k]["curve_errors"]} for k in KINDS},
    }

    def shown(kind: str) -> str:
        return str(best[kind]["steps"]) if best[kind]["steps"] is not None else f"> {max_steps}"

    def times(kind: str) -> str:
        if np.isfinite(ratio[kind]):
            return f"{ratio[kind]:.1f}x"
        return f"> {max_steps / cost['relu']:.1f}x" if np.isfinite(cost["relu"]) else "n/a"

    report.claim("ReLU reaches the training-error target faster than tanh", cost["relu"] < cost["tanh"],
                 f"{shown('relu')} vs {shown('tanh')} steps (tanh/ReLU = {times('tanh')})")
    report.claim("... by a factor of 3 or more (Krizhevsky et al. measured 6x on CIFAR-10)",
                 cost["tanh"] >= 3 * cost["relu"], f"tanh/ReLU = {times('tanh')}")
    report.claim("ReLU reaches the training-error target faster than sigmoid", cost["relu"] < cost["sigmoid"],
                 f"{shown('relu')} vs {shown('sigmoid')} steps (sigmoid/ReLU = {times('sigmoid')})")
    fig, ax = report.figure("race", "Training error against SGD step, each activation at its fastest "
                            "learning rate; the dotted line is the target", size=(5.5, 3.8))
    for kind in KINDS:
        ax.plot(best[kind]["curve_steps"], best[kind]["curve_errors"], "o-", ms=3,
                label=f"{kind} (lr {best[kind]['lr']})")
    ax.axhline(target, color="grey", ls=":")
    ax.set(xlabel="SGD step", ylabel="training error", ylim=(0, 1))
    ax.legend(fontsize=8)
    report.headline = (f"CNN on MNIST-1D, SGD: ReLU reaches {target:.0%} training error in {shown('relu')} "
                       f"steps, tanh in {shown('tanh')} ({times('tanh')}), sigmoid in {shown('sigmoid')} "
                       f"({times('sigmoid')})")
    return report
