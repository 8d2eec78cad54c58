"""Deep double descent on MNIST-1D: test error of trained MLPs against width, with 20% label noise.

Lecture 001 ("Deep double descent"; Nakkiran et al. 2019, "Deep Double
Descent: Where Bigger Models and More Data Hurt", Figure 1): with label
noise and no regularization, test error of a *trained* network, as a function
of its width, first falls, then rises to a peak at the interpolation
threshold (the smallest width that fits the noisy training set exactly) and
falls again for wider networks. The lab's ``double-descent`` experiment shows
the peak cleanly for min-norm random features on the 8x8 digits, but not for
trained networks; MNIST-1D (Greydanus 2020) was made to show such effects.

Here: two-layer MLPs 40-h-10 (ReLU, PyTorch's default initialization, no
weight decay) trained with Adam at a constant learning rate, full batch, on
the first n = 1,000 MNIST-1D training signals, 20% of whose labels are moved
to a random other class (``with_label_noise``); test error on the 1,000 clean
test signals. The interpolation threshold is measured, not assumed: the first
width whose training error (on the noisy labels) is below 1%.
"""

from __future__ import annotations

import numpy as np

import gradlab
from gradlab import optim
from gradlab.lab._common import evaluate, mlp, mnist1d_data, seeded, single_thread, with_label_noise
from gradlab.lab.report import Report
from gradlab.nn import functional as F

NAME = "double-descent-mnist1d"
NOISE = 0.2
N_TRAIN = 1000


def _fit(width: int, data, steps: int, lr: float) -> dict[str, float]:
    """Train a 40-``width``-10 MLP full batch; its errors and losses."""
    model = mlp([40, width, 10])
    opt = optim.Adam(model.parameters(), lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        F.cross_entropy(model(data.x_train), data.y_train).backward()
        opt.step()
    train_loss, train_acc = evaluate(model, data.x_train, data.y_train)
    test_loss, test_acc = evaluate(model, data.x_val, data.y_val)
    return {"train_error": 1.0 - train_acc, "test_error": 1.0 - test_acc, "train_loss": train_loss,
            "test_loss": test_loss, "params": sum(p.numel() for p in model.parameters())}


def run(quick: bool = False, seed: int = 0) -> Report:
    report = Report(
        name=NAME, title="Deep double descent on MNIST-1D: trained MLPs against width, 20% label noise",
        description=f"Two-layer MLPs 40-h-10 trained with Adam (full batch, no regularization) on "
                    f"{N_TRAIN} MNIST-1D signals with {NOISE:.0%} of the labels randomized; test error "
                    "on the 1,000 clean test signals against the hidden width h.",
        quick=quick, seed=seed)
    seeded(seed)
    clean = mnist1d_data(n_train=N_TRAIN)
    data = with_label_noise(clean, NOISE, seed)
    flipped = int(np.sum(data.y_train.numpy() != clean.y_train.numpy()))
    widths = [4, 16, 32, 128] if quick else [4, 8, 12, 16, 24, 32, 48, 64, 96, 128, 256]
    steps, lr = (500, 3e-3) if quick else (2000, 3e-3)
    rows: dict[str, list[float]] = {}
    with single_thread():
        for width in widths:
            gradlab.manual_seed(seed)
            for key, value in _fit(width, data, steps, lr).items():
                rows.setdefault(key, []).append(value)
    test, train = np.array(rows["test_error"]), np.array(rows["train_error"])
    fits = train < 0.01
    t = int(np.argmax(fits)) if fits.any() else len(widths) - 1  # the interpolation threshold
    peak = int(np.argmax(test))
    best_before = int(np.argmin(test[:t])) if t > 0 else 0
    report.numbers.update({
        "n_train": N_TRAIN, "label_noise": NOISE, "flipped": flipped, "steps": steps, "lr": lr,
        "widths": widths, **rows, "threshold_width": widths[t], "threshold_test_error": float(test[t]),
        "peak_width": widths[peak], "peak_test_error": float(test[peak]),
        "best_narrower_width": widths[best_before], "best_narrower_test_error": float(test[best_before]),
        "widest_test_error": float(test[-1]), "reached_interpolation": bool(fits.any()),
    })
    report.table("widths", ["hidden width h", "parameters", "train error (noisy labels)", "test error",
                            "train loss", "test loss"],
                 [[w, rows["params"][i], train[i], test[i], rows["train_loss"][i], rows["test_loss"][i]]
                  for i, w in enumerate(widths)],
                 caption=f"Adam lr {lr}, {steps} full-batch steps, {N_TRAIN} training signals "
                         f"({flipped} labels flipped).")

    fig, axes = report.figure("error_vs_width", "Train and test error (left) and test cross-entropy (right) "
                              "against hidden width; the dashed line marks the interpolation threshold "
                              "(first width with < 1% training error)", ncols=2, size=(10.0, 3.8))
    axes[0].semilogx(widths, test, "o-", label="test error (clean labels)")
    axes[0].semilogx(widths, train, "s-", label="train error (noisy labels)")
    axes[0].axhline(NOISE, color="grey", ls=":", lw=1, label=f"label noise {NOISE:.0%}")
    axes[1].semilogx(widths, rows["test_loss"], "o-", color="C3", label="test loss")
    for ax in axes:
        ax.axvline(widths[t], color="k", ls="--", lw=1, label=f"threshold h = {widths[t]}")
        ax.set(xlabel="hidden width h")
        ax.legend(fontsize=8)
    axes[0].set(ylabel="classification error", title="Error against width")
    axes[1].set(ylabel="cross-entropy", title="Test loss against width")

    near = abs(np.log2(widths[peak] / widths[t])) <= 1.0
    report.claim("Wide enough networks fit the noisy training labels (train error < 1%)", bool(fits.any()),
                 f"first at h = {widths[t]}; train errors {', '.join(f'{e:.3f}' for e in train)}")
    report.claim("Test error peaks near the interpolation threshold (within a factor 2 in width)", near,
                 f"peak {test[peak]:.3f} at h = {widths[peak]}, threshold h = {widths[t]}")
    report.claim("Test error at the threshold is above the best narrower network's",
                 t > 0 and test[t] > test[best_before],
                 f"{test[t]:.3f} at h = {widths[t]} vs {test[best_before]:.3f} at h = {widths[best_before]}")
    report.claim("... and the widest network's is below it again (the second descent)", test[-1] < test[t],
                 f"{test[-1]:.3f} at h = {widths[-1]} vs {test[t]:.3f}")
    report.headline = (f"Trained MLPs on MNIST-1D with {NOISE:.0%} label noise: test error "
                       f"{test[best_before]:.3f} at h = {widths[best_before]}, {test[t]:.3f} at the "
                       f"interpolation threshold h = {widths[t]}, peak {test[peak]:.3f} at "
                       f"h = {widths[peak]}, "
                       f"{test[-1]:.3f} at h = {widths[-1]}")
    return report
