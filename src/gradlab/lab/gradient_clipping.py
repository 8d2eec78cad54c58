"""Exploding gradients in an RNN on long sequences, and gradient-norm clipping.

Reproduces the "exploding gradient" slides of lectures 000 and 003 and
Pascanu, Mikolov & Bengio (2013), "On the difficulty of training recurrent
neural networks". A tanh RNN ``h_t = tanh(W_ih x_t + W_hh h_{t-1} + b)``
must output, after ``T`` steps, the first value of its input sequence, so
the gradient reaches ``x_1`` through the product of ``T`` Jacobians
``diag(1 - h_t^2) W_hh``. With ``W_hh`` initialized orthogonal times 1.5
(spectral radius 1.5 > 1) that product can grow like ``1.5^T`` wherever
the units are not saturated: the loss surface has steep "cliffs", where one
gradient is orders of magnitude larger than the others and one SGD step
``theta <- theta - lr g`` throws the parameters far away (in the worst case
to inf/NaN).

Clipping (Pascanu et al., Algorithm 1) keeps the direction and bounds the
step: ``g <- g * min(1, c / ||g||)`` with ``||g||`` the norm of all
gradients together, here :func:`gradlab.nn.utils.clip_grad_norm_`. The
experiment trains the same network from the same initialization on the
same batches twice, without and with clipping at ``c = 1``, and records the
gradient norm before and after clipping and the loss at every step.
"""

from __future__ import annotations

import math

import numpy as np

import gradlab
from gradlab import nn, optim
from gradlab.lab._common import seeded
from gradlab.lab.report import Report
from gradlab.nn import functional as F
from gradlab.nn import init
from gradlab.nn.utils import clip_grad_norm_

NAME = "gradient-clipping"


class RecallFirst(nn.Module):
    """A one-layer tanh RNN read out by a Linear layer from its last state,
    with the recurrent matrix orthogonal times ``radius``."""

    def __init__(self, hidden: int, radius: float) -> None:
        super().__init__()
        self.rnn = nn.RNN(1, hidden, batch_first=True)
        init.orthogonal_(self.rnn.weight_hh_l0, gain=radius)
        self.readout = nn.Linear(hidden, 1)

    def forward(self, x: gradlab.Tensor) -> gradlab.Tensor:
        _, h = self.rnn(x)
        return self.readout(h[0]).reshape(-1)


def recall_batch(rng: np.random.Generator, batch: int, length: int) -> tuple[gradlab.Tensor, gradlab.Tensor]:
    """Sequences of ``length`` values ~ U(0, 1), shape (batch, length, 1);
    the target is each sequence's first value."""
    x = rng.uniform(0.0, 1.0, (batch, length, 1)).astype(np.float32)
    return gradlab.from_numpy(x), gradlab.from_numpy(np.ascontiguousarray(x[:, 0, 0]))


def train(seed: int, max_norm: float | None, steps: int, length: int, hidden: int, radius: float,
          lr: float, batch: int = 32) -> dict[str, list[float]]:
    """SGD on the recall task; per step the loss, the gradient norm before
    clipping and the norm of the gradient actually applied. A run whose
    loss becomes inf/NaN stops there."""
    seeded(seed)
    model = RecallFirst(hidden, radius)
    optimizer = optim.SGD(model.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    params = list(model.parameters())
    out: dict[str, list[float]] = {"loss": [], "pre": [], "post": []}
    for _ in range(steps):
        x, y = recall_batch(rng, batch, length)
        optimizer.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        # with max_norm=inf the call only measures the norm
        pre = float(clip_grad_norm_(params, max_norm if max_norm is not None else math.inf))
        post = float(clip_grad_norm_(params, math.inf))
        optimizer.step()
        out["loss"].append(loss.item())
        out["pre"].append(pre)
        out["post"].append(post)
        if not math.isfinite(out["loss"][-1]):
            break
    return out


def _end(losses: list[float], steps: int) -> float:
    """Mean loss over the last 10% of ``steps`` (inf if the run diverged)."""
    if len(losses) < steps or not all(math.isfinite(v) for v in losses):
        return math.inf
    return float(np.mean(losses[-max(1, steps // 10):]))


def run(quick: bool = False, seed: int = 0) -> Report:
    report = Report(name=NAME, title="Exploding gradients in an RNN and gradient clipping",
                    description=__doc__.strip().split("\n", 1)[1].strip(), quick=quick, seed=seed)
    steps, length, hidden, radius, lr, threshold = (200 if quick else 600), 50, 32, 1.5, 0.07, 1.0
    with np.errstate(over="ignore", invalid="ignore"):  # the run without clipping overflows on purpose
        runs = {"no clipping": train(seed, None, steps, length, hidden, radius, lr),
                "clipping": train(seed, threshold, steps, length, hidden, radius, lr)}
    plain, clipped = runs["no clipping"], runs["clipping"]
    # the loss of always predicting the mean 1/2: Var U(0, 1) = 1/12, estimated from fresh draws
    constant_loss = float(np.var(recall_batch(np.random.default_rng(seed + 1), 10_000, 1)[1].numpy()))

    def stats(r: dict[str, list[float]]) -> dict:
        pre, losses = np.array(r["pre"], dtype=np.float64), np.array(r["loss"], dtype=np.float64)
        finite = pre[np.isfinite(pre)]
        return {"steps_run": len(losses), "diverged": len(losses) < steps or not np.isfinite(losses).all(),
                "start_norm": float(np.median(pre[:10])), "median_norm": float(np.median(finite)),
                "max_norm": float(pre.max()) if finite.size == pre.size else math.inf,
                "max_applied_norm": float(np.max(r["post"])), "final_loss": _end(r["loss"], steps),
                "max_loss": float(losses.max()) if np.isfinite(losses).all() else math.inf}

    s = {name: stats(r) for name, r in runs.items()}
    spike = s["no clipping"]["max_norm"] / s["no clipping"]["start_norm"]
    report.numbers.update({
        "config": {"steps": steps, "length": length, "hidden": hidden, "spectral_radius": radius, "lr": lr,
                   "threshold": threshold},
        "constant_predictor_loss": constant_loss, "spike_ratio": spike,
        "runs": s, "curves": {name: r for name, r in runs.items()}})
    report.table("runs", ["run", "steps run", "grad norm at start", "max grad norm", "max applied norm",
                          "max loss", "final loss", "diverged"],
                 [[name, v["steps_run"], v["start_norm"], v["max_norm"], v["max_applied_norm"], v["max_loss"],
                   v["final_loss"], v["diverged"]] for name, v in s.items()],
                 caption=f"tanh RNN, {hidden} units, W_hh orthogonal x {radius}, sequences of {length}, "
                 f"SGD lr {lr}, batch 32; grad norm at start = median of the first 10 steps; final loss = "
                 f"mean of the last 10% of steps; predicting the mean gives {constant_loss:.4f}")
    report.claim("Without clipping the gradient norm spikes by orders of magnitude (max >= 100x its start)",
                 spike >= 100, f"max {s['no clipping']['max_norm']:.3g} vs "
                 f"{s['no clipping']['start_norm']:.3g} over the first 10 steps ({spike:.3g}x)")
    report.claim("Without clipping the loss jumps far above its start or diverges",
                 s["no clipping"]["diverged"] or s["no clipping"]["max_loss"] > 10 * plain["loss"][0],
                 f"max loss {s['no clipping']['max_loss']:.3g} vs first {plain['loss'][0]:.3g}; "
                 f"diverged: {s['no clipping']['diverged']}")
    report.claim(f"With clipping the applied gradient norm never exceeds the threshold {threshold}",
                 s["clipping"]["max_applied_norm"] <= threshold * (1 + 1e-5),
                 f"max applied {s['clipping']['max_applied_norm']:.6f}, max before clipping "
                 f"{s['clipping']['max_norm']:.3g}")
    report.claim("With clipping the loss ends lower, below the constant predictor's",
                 s["clipping"]["final_loss"] < min(s["no clipping"]["final_loss"], constant_loss),
                 f"{s['clipping']['final_loss']:.4f} vs {s['no clipping']['final_loss']:.4g} without "
                 f"clipping, {constant_loss:.4f} for the constant 1/2")

    fig, axes = report.figure("grad_norm_and_loss", "Gradient norm (log) and loss per step, without and with "
                              "clipping (same init, same batches)", ncols=2, size=(10, 3.6))
    for name, color in (("no clipping", "tab:red"), ("clipping", "tab:blue")):
        r = runs[name]
        axes[0].plot(r["pre"], color=color, lw=0.8, label=f"{name}: before clipping")
        axes[1].plot(r["loss"], color=color, lw=0.8, label=name)
    axes[0].plot(clipped["post"], color="tab:green", lw=0.8, label="clipping: applied")
    axes[0].axhline(threshold, color="gray", ls=":")
    axes[0].set(yscale="log", xlabel="step", ylabel="gradient norm")
    axes[1].axhline(constant_loss, color="gray", ls=":", label="predict 1/2")
    axes[1].set(yscale="log", xlabel="step", ylabel="MSE loss")
    for ax in axes:
        ax.legend(fontsize=7)

    plain_s, clip_s = s["no clipping"], s["clipping"]
    ended = (f"diverges (inf/NaN) at step {plain_s['steps_run']}" if plain_s["diverged"]
             else f"ends at loss {plain_s['final_loss']:.4f}")
    report.headline = (f"Without clipping the gradient norm spikes to {spike:.2g}x its starting value and "
                       f"training {ended}; clipped at {threshold} (applied norm <= "
                       f"{clip_s['max_applied_norm']:.4f}) it ends at loss {clip_s['final_loss']:.4f} vs "
                       f"{constant_loss:.4f} for the constant 1/2")
    return report
