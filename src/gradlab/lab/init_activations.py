"""How the scale of the initial weights shapes activations and gradients through depth.

The lectures' experiment (cs231n's "activation statistics", after Glorot &
Bengio 2010 and He et al. 2015): a 10-layer network of 500 units without
biases, fed 1,000 standard-normal inputs, initialized five ways:

- ``W * 0.01`` with tanh: each layer multiplies the scale by about
  0.01 * sqrt(500) = 0.22, so activations (and the gradients on the weights,
  which are proportional to them) vanish layer by layer;
- ``W * 1.0`` with tanh: pre-activations have std ~ sqrt(500) = 22, so almost
  every unit saturates at -1 or +1, where tanh' ~ 0;
- Xavier, W ~ N(0, 1/fan_in) with tanh: Var(W x) = Var(x), the scale is kept
  to first order (the derivation assumes a linear unit), decaying slowly;
- the same Xavier scale with ReLU: ReLU zeroes half the signal, so
  E[h^2] halves at every layer and activations shrink by 1/sqrt(2) per layer;
- He, W ~ N(0, 2/fan_in) with ReLU: the factor 2 compensates, and every layer
  keeps mean ~0.56 and std ~0.83.

(With fan_in = fan_out = 500, the lectures' "Xavier" 1/sqrt(fan_in) is both
LeCun's normal init and Glorot's xavier_normal_.) The same network is drawn
again several times with fresh weights and inputs to measure how much each
per-layer std varies from draw to draw: the sampling error against which a
published table can be compared.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

import gradlab
from gradlab import nn
from gradlab.diagnostics import activation_stats
from gradlab.lab.report import Report

__all__ = ["INITS", "build", "run"]

LAYERS, WIDTH, BATCH = 10, 500, 1000


def _scaled(scale: float) -> Callable[[gradlab.Tensor, gradlab.Generator], None]:
    def init(weight: gradlab.Tensor, generator: gradlab.Generator) -> None:
        nn.init.normal_(weight, 0.0, scale, generator=generator)
    return init


# name -> (activation, weight initializer, label)
INITS: dict[str, tuple[str, Callable[[gradlab.Tensor, gradlab.Generator], None], str]] = {
    "small-tanh": ("tanh", _scaled(0.01), "W * 0.01, tanh"),
    "unit-tanh": ("tanh", _scaled(1.0), "W * 1.0, tanh"),
    "xavier-tanh": ("tanh", lambda w, g: nn.init.lecun_normal_(w, generator=g), "Xavier, tanh"),
    "xavier-relu": ("relu", lambda w, g: nn.init.lecun_normal_(w, generator=g), "Xavier, ReLU"),
    "he-relu": ("relu", lambda w, g: nn.init.kaiming_normal_(w, nonlinearity="relu", generator=g),
                "He, ReLU"),
}


def build(init: str, generator: gradlab.Generator) -> nn.Sequential:
    """The 10 x 500 network (float64, no biases) with initialization ``init``."""
    activation, fill, _ = INITS[init]
    layers: list[nn.Module] = []
    for _ in range(LAYERS):
        linear = nn.Linear(WIDTH, WIDTH, bias=False).double()
        fill(linear.weight, generator)
        layers += [linear, nn.Tanh() if activation == "tanh" else nn.ReLU()]
    return nn.Sequential(*layers)


def _generator(seed: int, init: int, draw: int) -> gradlab.Generator:
    """An independent stream for each (seed, initialization, draw), so that a
    quick run's draws are the first draws of the full run."""
    state = np.random.SeedSequence([seed, init, draw]).generate_state(2, dtype=np.uint64)
    return gradlab.Generator().manual_seed(int(state[0] >> np.uint64(1)))


def _measure(init: str, generator: gradlab.Generator, gradients: bool = True) -> dict[str, list]:
    """Per-layer activation statistics (and, with ``gradients``, the
    weight-gradient stds) of one draw."""
    model = build(init, generator)
    x = gradlab.randn(BATCH, WIDTH, generator=generator, dtype=gradlab.float64)
    stats = [s for s in activation_stats(model, x, bins=40) if s.kind in ("tanh", "relu")]
    grad_std = []
    if gradients:  # backward pass of a random upstream gradient, as if a loss sat on top
        out = model(x)
        out.backward(gradlab.randn(*out.shape, generator=generator, dtype=gradlab.float64))
        grad_std = [float(m.weight.grad.array.std()) for m in model if isinstance(m, nn.Linear)]
    return {
        "input_mean": float(x.array.mean()), "input_std": float(x.array.std()),
        "mean": [s.mean for s in stats], "std": [s.std for s in stats],
        "saturated": [s.saturated for s in stats], "dead": [s.dead for s in stats],
        "histogram": [s.histogram for s in stats], "grad_std": grad_std,
    }


def run(quick: bool = False, seed: int = 0) -> Report:
    """Activation statistics of the five initializations; ``quick`` draws
    each network twice instead of 8 times to estimate the sampling error."""
    report = Report(
        name="init-activations",
        title="Weight initialization and activation statistics",
        description="A 10-layer tanh/ReLU network of 500 units (no biases) fed 1,000 standard-normal "
        "inputs, as in the lectures' activation-statistics slides: mean and std of every hidden "
        "layer's output, their histograms, and the std of the weight gradients from one backward "
        "pass. Compare the std table with the slides (lecture 001, 'Weight Initialization').",
        quick=quick, seed=seed,
    )
    draws = 2 if quick else 8
    results = {name: [_measure(name, _generator(seed, i, d), gradients=d == 0) for d in range(draws)]
               for i, name in enumerate(INITS)}
    first = {name: r[0] for name, r in results.items()}
    spread = {name: np.std([d["std"] for d in r], axis=0, ddof=1).tolist() for name, r in results.items()}

    report.numbers.update({
        "layers": LAYERS, "width": WIDTH, "batch": BATCH, "draws": draws,
        "input": {"mean": first["small-tanh"]["input_mean"], "std": first["small-tanh"]["input_std"]},
        "mean": {n: first[n]["mean"] for n in INITS},
        "std": {n: first[n]["std"] for n in INITS},
        "std_sampling_error": spread,
        "saturated": {n: first[n]["saturated"] for n in INITS if INITS[n][0] == "tanh"},
        "dead": {n: first[n]["dead"] for n in INITS if INITS[n][0] == "relu"},
        "grad_std": {n: first[n]["grad_std"] for n in INITS},
    })
    _tables(report, first, spread)
    _figures(report, first)
    _claims(report, first)
    return report


def _tables(report: Report, first: dict, spread: dict) -> None:
    names = list(INITS)
    rows = [[f"hidden layer {i + 1}",
             *(f"{first[n]['mean'][i]:.6f} / {first[n]['std'][i]:.6f}" for n in names)]
            for i in range(LAYERS)]
    report.table("Mean / std of each layer's output", ["layer", *(INITS[n][2] for n in names)], rows,
                 caption="the first draw of each network (seed as given); the slides print the same two "
                 "numbers per layer")
    rows = [[f"hidden layer {i + 1}", *(spread[n][i] for n in names)] for i in range(LAYERS)]
    report.table("Sampling error of the std", ["layer", *(INITS[n][2] for n in names)], rows,
                 caption=f"standard deviation of each layer's std over {report.numbers['draws']} draws "
                 "of weights and inputs")
    rows = [[f"layer {i + 1}", *(first[n]["grad_std"][i] for n in names)] for i in range(LAYERS)]
    report.table("Std of the weight gradients", ["layer", *(INITS[n][2] for n in names)], rows,
                 caption="dL/dW for a random upstream gradient dL/dy ~ N(0, 1) at the top")


def _figures(report: Report, first: dict) -> None:
    fig, (ax_std, ax_grad) = report.figure("std-by-layer", "std of activations and of weight gradients by "
                                           "layer (log scale)", ncols=2, size=(10, 3.8))
    depth = np.arange(1, LAYERS + 1)
    for name, (_, _, label) in INITS.items():
        ax_std.semilogy(depth, np.maximum(first[name]["std"], 1e-300), marker="o", label=label)
        ax_grad.semilogy(depth, np.maximum(first[name]["grad_std"], 1e-300), marker="o", label=label)
    ax_std.set(xlabel="hidden layer", ylabel="std of output", title="activations")
    ax_grad.set(xlabel="layer", ylabel="std of dL/dW", title="weight gradients")
    ax_std.legend(fontsize=7)
    for name, (_, _, label) in INITS.items():
        fig, axes = report.figure(f"histograms-{name}", f"{label}: histogram of each hidden layer's output",
                                  nrows=2, ncols=5, size=(13, 4.6))
        for i, ax in enumerate(axes.flat):
            counts, edges = first[name]["histogram"][i]
            ax.stairs(counts, edges, fill=True)
            ax.set_title(f"layer {i + 1}: std {first[name]['std'][i]:.2g}", fontsize=8)
            ax.tick_params(labelsize=6)
            ax.set_yticks([])


def _claims(report: Report, first: dict) -> None:
    std = {n: first[n]["std"] for n in INITS}
    small = std["small-tanh"]
    report.claim("W * 0.01: activations vanish, shrinking about 0.22x per layer",
                 small[-1] < 1e-5 and all(b < a for a, b in zip(small, small[1:])),
                 f"std {small[0]:.3g} at layer 1, {small[-1]:.2g} at layer 10")
    saturated = first["unit-tanh"]["saturated"]
    report.claim("W * 1.0: almost all tanh units saturate at -1 or +1",
                 min(saturated) > 0.9, f"saturated fraction {min(saturated):.1%} to {max(saturated):.1%}")
    xavier = std["xavier-tanh"]
    report.claim("Xavier keeps a tanh network alive: the std decays slowly, not geometrically",
                 xavier[-1] > 0.1 and xavier[-1] > 1e4 * small[-1],
                 f"std {xavier[0]:.3f} -> {xavier[-1]:.3f}")
    halving = std["xavier-relu"]
    ratio = (halving[-1] / halving[0]) ** (1 / (LAYERS - 1))
    report.claim("Xavier breaks with ReLU: the std shrinks by ~1/sqrt(2) per layer",
                 abs(ratio - 1 / math.sqrt(2)) < 0.05, f"geometric ratio {ratio:.3f} per layer")
    he = std["he-relu"]
    report.claim("He init keeps a ReLU network's std constant through depth",
                 max(he) / min(he) < 1.3 and min(he) > 0.6, f"std between {min(he):.3f} and {max(he):.3f}")
    grads = {n: first[n]["grad_std"] for n in INITS}
    report.claim("W * 0.01: the weight gradients are tiny at every layer (dL/dW = x^T dL/dy, and x is "
                 "tiny near the top, dL/dy tiny near the bottom)",
                 max(grads["small-tanh"]) < 1e-3 * min(grads["xavier-tanh"]),
                 f"largest {max(grads['small-tanh']):.2g} vs at least {min(grads['xavier-tanh']):.2g} "
                 "with Xavier")
    unit = grads["unit-tanh"]
    growth = (unit[0] / unit[-1]) ** (1 / (LAYERS - 1))
    report.note(
        f"The slides say that with W * 1.0 the gradients will be all zero. In this network they are "
        f"not: {min(first['unit-tanh']['saturated']):.0%} of the units are saturated (local derivative "
        f"~0), but the rest pass the gradient on through weights of std 1, so the weight gradients "
        f"grow about {growth:.1f}x per layer towards the input ({unit[-1]:.2g} at layer 10, "
        f"{unit[0]:.2g} at layer 1): the saturated net's gradients are useless (a few units carry "
        f"them, with exploding scale), not zero.")
    report.headline = (f"Std at layer 10: W*0.01 {small[-1]:.1e}, W*1.0 {std['unit-tanh'][-1]:.3f} "
                       f"(saturated), Xavier/tanh {xavier[-1]:.3f}, Xavier/ReLU {halving[-1]:.3f}, "
                       f"He/ReLU {he[-1]:.3f}")
