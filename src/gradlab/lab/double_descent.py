"""Double descent: test error against model width, with 20% label noise, peaks at the interpolation threshold.

Lecture 001 ("Deep double descent"; Belkin et al. 2019, Nakkiran et al. 2019):
as a model grows, test error first follows the classical U, then rises to a
peak where the model has just enough capacity to fit the (noisy) training set
exactly, and falls again beyond it, often below the classical minimum.

Main sweep, random ReLU features with the minimum-norm least-squares fit (the
cleanest reproduction, Belkin et al.'s setting): for a width p, draw
W in R^{64 x p} with N(0, 1/64) entries once, map each image to
phi(x) = relu(x W), and fit the one-hot targets Y (n x 10) by

    A = argmin { ||A||_F : A minimizes ||Phi A - Y||_F^2 } = Phi^+ Y

(``numpy.linalg.lstsq``). Each class column has p parameters for n
equations: below p = n the fit is a regression, at p = n it has to
interpolate with a square, badly conditioned Phi (huge ||A||, the peak), and
above p = n it interpolates with a shrinking minimum norm. n = 200 digits,
20% of whose labels are replaced by a random other class; the test set is the
360 clean validation digits. Test error is averaged over several feature draws.

A second, smaller sweep trains a two-layer MLP of hidden width h (all
weights learned, Adam, no regularization, full batch) on the same noisy set
to (near) zero training error, the setting of Nakkiran et al.'s Figure 1,
where the threshold is blurrier: roughly where the parameter count
(64 + 1) h + (h + 1) 10 is a few times n.
"""

from __future__ import annotations

import numpy as np

import gradlab
from gradlab import optim
from gradlab.lab._common import accuracy, digits_data, mlp, seeded, with_label_noise
from gradlab.lab.report import Report
from gradlab.nn import functional as F

NAME = "double-descent"
NOISE = 0.2


def _random_features(x: gradlab.Tensor, weights: gradlab.Tensor) -> np.ndarray:
    return F.relu(x @ weights).numpy().astype(np.float64)


def _features_sweep(data, labels: np.ndarray, widths: list[int], draws: int,
                    gen: gradlab.Generator) -> dict[str, list[float]]:
    """Train/test classification error, test squared error and ||A|| of the
    min-norm random-features fit at each width (means over ``draws``)."""
    targets = np.eye(10)[labels]
    y_val = data.y_val.numpy()
    out: dict[str, list[float]] = {"train_error": [], "test_error": [], "test_mse": [], "norm": []}
    for p in widths:
        rows = []
        for _ in range(draws):
            weights = gradlab.randn(64, p, generator=gen) / 8.0  # N(0, 1/64): unit-scale pre-activations
            phi, phi_val = _random_features(data.x_train, weights), _random_features(data.x_val, weights)
            coef, *_ = np.linalg.lstsq(phi, targets, rcond=None)  # min-norm when p > n
            pred, pred_val = phi @ coef, phi_val @ coef
            rows.append([np.mean(pred.argmax(1) != labels), np.mean(pred_val.argmax(1) != y_val),
                         np.mean(np.sum((pred_val - np.eye(10)[y_val]) ** 2, 1)), np.linalg.norm(coef)])
        for key, value in zip(out, np.mean(rows, 0)):
            out[key].append(float(value))
    return out


def _network_sweep(data, labels: np.ndarray, widths: list[int], steps: int) -> dict[str, list[float]]:
    """Train/test error of a 64-h-10 MLP trained full batch to fit the noisy labels."""
    y = gradlab.from_numpy(labels)
    out: dict[str, list[float]] = {"train_error": [], "test_error": [], "params": []}
    for h in widths:
        model = mlp([64, h, 10])
        opt = optim.Adam(model.parameters(), lr=3e-3)
        for _ in range(steps):
            opt.zero_grad()
            F.cross_entropy(model(data.x_train), y).backward()
            opt.step()
        out["train_error"].append(1.0 - accuracy(model, data.x_train, y))
        out["test_error"].append(1.0 - accuracy(model, data.x_val, data.y_val))
        out["params"].append(sum(p.numel() for p in model.parameters()))
    return out


def run(quick: bool = False, seed: int = 0) -> Report:
    report = Report(
        name=NAME, title="Double descent: test error against width, with label noise",
        description=f"Random ReLU features with the minimum-norm least-squares fit, and a trained two-layer "
                    f"MLP, on 200 digits with {NOISE:.0%} of the labels randomized; test error against "
                    "width on the clean validation digits.",
        quick=quick, seed=seed)
    n_train = 200
    seeded(seed)
    gen = gradlab.Generator().manual_seed(seed)
    data = digits_data(seed, n_train=n_train)
    clean = data.y_train.numpy()
    labels = with_label_noise(data, NOISE, seed).y_train.numpy()
    n_points, draws = (14, 3) if quick else (26, 5)
    widths = sorted(set(np.round(np.logspace(1, np.log10(20 * n_train), n_points)).astype(int).tolist())
                    | {n_train})
    rf = _features_sweep(data, labels, widths, draws, gen)

    test = np.array(rf["test_error"])
    peak = int(np.argmax(test))
    below = [i for i, p in enumerate(widths) if p < n_train / 2]  # the classical regime
    classical = min(below, key=lambda i: test[i])
    past = [i for i, p in enumerate(widths) if p >= 2 * n_train]
    train_past = float(np.max(np.array(rf["train_error"])[past]))
    report.numbers.update({
        "n_train": n_train, "label_noise": NOISE, "flipped": int(np.sum(labels != clean)),
        "widths": widths, "draws": draws, "random_features": rf,
        "peak_width": widths[peak], "peak_test_error": float(test[peak]),
        "classical_width": widths[classical], "classical_test_error": float(test[classical]),
        "widest_width": widths[-1], "widest_test_error": float(test[-1]),
        "max_train_error_past_threshold": train_past,
    })
    rows = [[p, rf["train_error"][i], rf["test_error"][i], rf["test_mse"][i], rf["norm"][i]]
            for i, p in enumerate(widths)]
    report.table("random_features", ["width p", "train error", "test error", "test squared error", "||A||_F"],
                 rows, caption=f"Min-norm least squares on p random ReLU features, n = {n_train}, "
                               f"mean of {draws} feature draws.")

    if not quick:  # the trained-network sweep (about half a minute)
        net_widths = [2, 3, 4, 6, 8, 12, 16, 24, 32, 64, 128, 512]
        net = _network_sweep(data, labels, net_widths, steps=1500)
        report.numbers["network"] = {"widths": net_widths, **net}
        report.table("network", ["hidden width h", "parameters", "train error", "test error"],
                     [[h, net["params"][i], net["train_error"][i], net["test_error"][i]]
                      for i, h in enumerate(net_widths)],
                     caption="Two-layer MLP, Adam full batch for 1500 steps, no regularization.")

    fig, axes = report.figure("error_vs_width", "Train and test error against width (log scale); the "
                              "dashed line is the interpolation threshold p = n", ncols=1 if quick else 2,
                              size=(5.0 if quick else 10.0, 3.8))
    ax = axes if quick else axes[0]
    ax.semilogx(widths, rf["test_error"], "o-", label="test error (clean labels)")
    ax.semilogx(widths, rf["train_error"], "s-", label="train error (noisy labels)")
    ax.axvline(n_train, color="k", ls="--", lw=1, label=f"p = n = {n_train}")
    ax.set(xlabel="random features p", ylabel="classification error", title="Random ReLU features")
    ax.legend(fontsize=8)
    if not quick:
        net = report.numbers["network"]
        axes[1].semilogx(net["params"], net["test_error"], "o-", label="test error")
        axes[1].semilogx(net["params"], net["train_error"], "s-", label="train error")
        axes[1].axvline(n_train * 10, color="k", ls="--", lw=1, label="params = n x classes")
        axes[1].set(xlabel="parameters", ylabel="classification error", title="Trained 2-layer MLP")
        axes[1].legend(fontsize=8)

    report.claim("Test error peaks at the interpolation threshold (p within a factor 1.5 of n)",
                 n_train / 1.5 <= widths[peak] <= 1.5 * n_train,
                 f"peak at p = {widths[peak]}, n = {n_train}")
    report.claim("The peak is higher than the best smaller model's test error",
                 test[peak] > test[classical],
                 f"{test[peak]:.3f} at p = {widths[peak]} vs {test[classical]:.3f} at "
                 f"p = {widths[classical]}")
    report.claim("... and higher than the widest model's (the second descent)", test[peak] > test[-1],
                 f"{test[peak]:.3f} vs {test[-1]:.3f} at p = {widths[-1]}")
    report.claim("Past the threshold the models fit the noisy training labels (train error ~0)",
                 train_past < 0.01, f"max train error for p >= {2 * n_train}: {train_past:.3f}")
    if not quick:
        net = report.numbers["network"]
        errors, fits = net["test_error"], [e < 0.01 for e in net["train_error"]]
        t = fits.index(True) if any(fits) else len(errors) - 1  # first width that fits the noisy labels
        bump = 0 < t < len(errors) - 1 and errors[t] > min(errors[:t]) + 0.01 and errors[-1] < errors[t]
        report.numbers["network"]["threshold_width"] = net_widths[t]
        report.claim("Trained MLP: test error at its interpolation threshold (the first width with zero "
                     "training error) is above a narrower network's and the widest network's", bump,
                     f"threshold h = {net_widths[t]}; test errors "
                     f"{', '.join(f'{e:.3f}' for e in errors)} for h = {net_widths}")
        report.note("The trained-network sweep uses cross-entropy, Adam and 1500 full-batch steps. Nakkiran "
                    "et al. see the model-wise peak for trained networks most clearly with long training and "
                    "label noise; with this short a budget the networks near the threshold are not driven to "
                    "the badly conditioned interpolating solution, and the curve may decrease monotonically.")
    report.headline = (f"Random-features test error falls to {test[classical]:.3f} at "
                       f"p = {widths[classical]}, peaks at {test[peak]:.3f} at p = {widths[peak]} "
                       f"(n = {n_train}) and falls again to {test[-1]:.3f} at p = {widths[-1]}")
    return report
