"""Why weights must not start equal: hidden units that start identical stay identical.

If every weight of a layer starts at the same value (zero is the usual
mistake), every hidden unit of that layer computes the same function of the
input, so every unit receives the same gradient and takes the same step:

    h_j = f(w_j . x + b_j),  dL/dw_j = (dL/dh_j) f'(.) x,

and w_j = w_k for all j, k before the step implies it after. The layer acts
as a single unit however wide it is. With all weights exactly zero and a
tanh hidden layer it is worse: h = tanh(0) = 0 and dL/dh = W_next^T delta =
0, so no hidden weight ever moves. Random initialization breaks the
symmetry (lecture 001, "Weight Initialization": "first idea: all zero? no").
"""

from __future__ import annotations

import numpy as np

import gradlab
from gradlab import nn
from gradlab.lab._common import digits_data, evaluate, mlp, seeded, train_epoch
from gradlab.lab.report import Report

__all__ = ["run", "unit_spread"]

INITS = {"zeros": "all weights and biases 0", "constant": "all weights 0.1, biases 0",
         "random": "PyTorch's default (uniform, scaled by 1/sqrt(fan_in))"}


def _initialize(model: nn.Module, init: str) -> None:
    for module in model.modules():
        if isinstance(module, nn.Linear) and init != "random":
            nn.init.constant_(module.weight, 0.0 if init == "zeros" else 0.1)
            nn.init.zeros_(module.bias)


def unit_spread(weight: gradlab.Tensor) -> float:
    """How different the units (rows) of a weight matrix are: the largest
    distance of a row from the mean row, relative to the mean row's norm
    (0 when all units are identical)."""
    w = weight.array.astype(np.float64)
    mean = w.mean(axis=0)
    return float(np.abs(w - mean).max() / max(np.linalg.norm(mean), 1e-30))


def run(quick: bool = False, seed: int = 0) -> Report:
    """Train the same tanh MLP from zero, constant and random weights."""
    report = Report(
        name="zero-init", title="Zero and constant initialization: the symmetry problem",
        description="A 64-32-32-10 tanh MLP trained on the digits with SGD + momentum from three "
        "initializations. The spread of a layer's units is the largest distance of a unit's weight "
        "vector from the layer's mean unit, relative to the mean unit's norm.",
        quick=quick, seed=seed)
    epochs = 5 if quick else 30
    data = digits_data(seed)
    curves, spreads, accuracies = {}, {}, {}
    for init in INITS:
        rng = seeded(seed)
        model = mlp([64, 32, 32, 10], activation="tanh")
        _initialize(model, init)
        optimizer = gradlab.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        curves[init] = [train_epoch(model, optimizer, data, 32, rng) for _ in range(epochs)]
        hidden = [m for m in model.modules() if isinstance(m, nn.Linear)][:-1]
        spreads[init] = [unit_spread(m.weight) for m in hidden]
        accuracies[init] = evaluate(model, data.x_val, data.y_val)[1]
        if init == "zeros":
            moved = max(float(np.abs(m.weight.array).max()) for m in hidden)
        if init == "constant":
            first_layer = {"constant": hidden[0].weight.array[:6].copy()}
        if init == "random":
            first_layer["random"] = hidden[0].weight.array[:6].copy()

    report.numbers.update({"epochs": epochs, "loss": curves, "unit_spread": spreads,
                           "val_accuracy": accuracies, "zeros_max_hidden_weight": moved})
    report.table("After training", ["initialization", "unit spread layer 1", "unit spread layer 2",
                                    "val accuracy"],
                 [[f"{name} ({text})", *spreads[name], accuracies[name]] for name, text in INITS.items()])
    fig, ax = report.figure("loss", "training loss per epoch")
    for init in INITS:
        ax.plot(range(1, epochs + 1), curves[init], marker="o", label=init)
    ax.set(xlabel="epoch", ylabel="training loss")
    ax.legend()
    fig, axes = report.figure("first-layer-units", "weights of the first 6 hidden units (8x8) after "
                              "training: constant init (top) and random init (bottom)",
                              nrows=2, ncols=6, size=(9, 3.4))
    for row, init in enumerate(("constant", "random")):
        for j in range(6):
            axes[row, j].imshow(first_layer[init][j].reshape(8, 8), cmap="RdBu")
            axes[row, j].set_xticks([])
            axes[row, j].set_yticks([])
        axes[row, 0].set_ylabel(init)

    symmetric = max(spreads["zeros"] + spreads["constant"])
    report.claim("Units that start identical stay identical (zero and constant init)", symmetric < 1e-4,
                 f"largest unit spread {symmetric:.1e} vs {min(spreads['random']):.2f} with random init")
    report.claim("All-zero weights with tanh: no hidden weight ever moves", moved == 0.0,
                 f"largest hidden weight after training {moved:.1e}")
    report.claim("Random initialization breaks the symmetry and learns",
                 accuracies["random"] > max(accuracies["zeros"], accuracies["constant"]) + 0.3,
                 f"val accuracy {accuracies['random']:.1%} vs {accuracies['zeros']:.1%} (zeros), "
                 f"{accuracies['constant']:.1%} (constant)")
    report.headline = (f"After {epochs} epochs: val accuracy {accuracies['random']:.1%} from random "
                       f"weights, {accuracies['constant']:.1%} from constant and {accuracies['zeros']:.1%} "
                       f"from zero weights, whose hidden units are still identical (spread "
                       f"{symmetric:.0e})")
    return report
