r"""Regularization: L1/L2 sparsity paths, dropout, early stopping, label smoothing, noise injection.

Reproduces the regularization claims of lectures 001 and 002.

**L1 vs L2** (lecture 002). Near a minimum :math:`w^*` with diagonal Hessian
H, the L2 optimum :math:`\tilde w_i = H_{ii} w^*_i / (H_{ii} + \alpha)` only
rescales each weight, while the L1 optimum :math:`w_i = \mathrm{sign}(w^*_i)
\max(|w^*_i| - \alpha / H_{ii}, 0)` sets every weight with :math:`|w^*_i| \le
\alpha / H_{ii}` to exactly 0: L1 is sparse, more so as lambda grows (the
path). A 64-h-10 MLP on all digits is trained with ``regularizers.L1`` /
``L2`` added to the loss over a grid of lambdas (SGD with momentum, cosine
decay to 0 so that the subgradient jitter of L1 around 0 dies out). A weight
is "near zero" when :math:`|w| < 10^{-3}` (at initialization about 1% are).

**Dropout, early stopping, label smoothing, noise injection** (lectures
001/002) need an overfitting setting: 300 training digits of which 20% carry
a wrong label (lecture 002: "most datasets have mistakes in the y labels";
the validation labels are clean) and a wide 64-w-w-10 MLP trained with Adam
far past its best epoch. Dropout, inverted (``nn.Dropout(0.5)``,
:math:`E_m[m \odot h] / (1-p) = h` in training, identity at test) or classic
(``scale_at_test=True``: :math:`E_m[m \odot h] = (1-p) h` in training, times
:math:`1-p` at test), should narrow the train/val gap, and both give the
same expected activation at test. ``EarlyStopping`` keeps the weights of the
epoch with the lowest val loss. Label smoothing
(``nn.CrossEntropyLoss(label_smoothing=eps)``, PyTorch's target
:math:`(1-\epsilon) y + \epsilon / K`; the lecture's
:math:`\epsilon / (K-1)` differs only in how eps is counted) stops the
pursuit of hard probabilities: lower confidence (mean max softmax
probability) and calibration error, :math:`ECE = \sum_b (n_b / N)
|acc_b - conf_b|` over 10 equal-width confidence bins (Guo et al. 2017).
Noise injection: Gaussian noise on the inputs (``nn.GaussianNoise``) and on
the weights (``regularizers.WeightNoise``, full run only).
"""

from __future__ import annotations

import numpy as np

import gradlab
from gradlab import nn, optim
from gradlab.data import DataLoader, TensorDataset
from gradlab.lab import _common as C
from gradlab.lab.report import Report
from gradlab.nn import functional as F
from gradlab.optim.lr_scheduler import CosineAnnealingLR
from gradlab.train import Trainer, regularizers
from gradlab.train.callbacks import Callback, EarlyStopping

NAME = "regularization"
NEAR_ZERO = 1e-3
# The full run adds lambdas, a wider path MLP and more settings (eps, noise levels, weight noise,
# clean labels).
CONFIG = {
    True: {"path_hidden": 64, "path_epochs": 10, "lambdas": [1e-4, 3e-4, 1e-3, 3e-3, 1e-2],
           "eps": [0.0, 0.02], "input_noise": [1.0], "weight_noise": [], "clean": False},
    False: {"path_hidden": 128, "path_epochs": 20, "lambdas": [10 ** (k / 2) for k in range(-10, -1)],
            "eps": [0.0, 0.02, 0.05, 0.1, 0.2], "input_noise": [0.5, 1.0], "weight_noise": [0.01],
            "clean": True},
}
# The overfitting setting: 64-256-256-10 MLP, Adam 3e-3, 40 epochs of batches of 32.
WIDTH, EPOCHS, LR = 256, 40, 3e-3
N_TRAIN, LABEL_NOISE, P_DROP, BINS = 300, 0.2, 0.5, 10


def _weights(model: nn.Module) -> np.ndarray:
    """The penalized weights (the regularizers' default selection), flat."""
    return np.concatenate([p.detach().numpy().ravel() for _, p in regularizers.select_parameters(model)])


def _penalized(reg: regularizers.Regularizer | None, data: C.Data, hidden: int, epochs: int,
               seed: int) -> tuple[float, np.ndarray]:
    """Train a 64-hidden-10 MLP with ``reg``'s penalty added to the loss;
    returns (val accuracy, weights)."""
    rng = C.seeded(seed)
    model = C.mlp([64, hidden, 10])
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    schedule = CosineAnnealingLR(opt, T_max=epochs * -(-data.n_train // 64))

    def loss_fn(out: gradlab.Tensor, y: gradlab.Tensor) -> gradlab.Tensor:
        loss = F.cross_entropy(out, y)
        return loss if reg is None else loss + reg.penalty(model)

    for _ in range(epochs):
        C.train_epoch(model, opt, data, 64, rng, loss_fn=loss_fn, after_step=lambda _: schedule.step())
    return C.evaluate(model, data.x_val, data.y_val)[1], _weights(model)


class _Track(Callback):
    """Logs eval-mode cross-entropy and accuracy on the training and the
    validation set after every epoch (``train_ce``, ``val_ce``, ...)."""

    def __init__(self, data: C.Data) -> None:
        self.data = data

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        d = self.data
        logs["train_ce"], logs["train_acc"] = C.evaluate(self.model, d.x_train, d.y_train)
        logs["val_ce"], logs["val_acc"] = C.evaluate(self.model, d.x_val, d.y_val)


def _fit(data: C.Data, width: int, epochs: int, lr: float, seed: int, dropout: str = "", eps: float = 0.0,
         input_noise: float = 0.0, weight_noise: float = 0.0, early: bool = False) -> dict:
    """Train a 64-w-w-10 MLP with one regularizer on ``data``; returns its
    final eval-mode metrics, the per-epoch history and calibration."""
    C.seeded(seed)
    layers: list[nn.Module] = [nn.GaussianNoise(input_noise)] if input_noise else []
    for i, (a, b) in enumerate(zip([64, width, width], [width, width, 10])):
        layers.append(nn.Linear(a, b))
        if i < 2:
            layers.append(nn.ReLU())
            if dropout:
                layers.append(nn.Dropout(P_DROP, scale_at_test=dropout == "classic"))
    model = nn.Sequential(*layers)
    loader = DataLoader(TensorDataset(data.x_train, data.y_train), batch_size=32, shuffle=True,
                        generator=gradlab.Generator().manual_seed(seed))
    stop = EarlyStopping("val_ce", mode="min", patience=10, restore_best_weights=True) if early else None
    regs = [regularizers.WeightNoise(weight_noise, generator=gradlab.Generator().manual_seed(seed))
            ] if weight_noise else []
    trainer = Trainer(model, optim.Adam(model.parameters(), lr=lr), nn.CrossEntropyLoss(label_smoothing=eps),
                      callbacks=[_Track(data)] + ([stop] if stop else []), regularizers=regs)
    history = trainer.fit(loader, epochs=epochs).history
    (train_ce, train_acc), (val_ce, val_acc) = (C.evaluate(model, data.x_train, data.y_train),
                                                C.evaluate(model, data.x_val, data.y_val))
    out = {"train_loss": train_ce, "val_loss": val_ce, "train_acc": train_acc, "val_acc": val_acc,
           "gap_loss": val_ce - train_ce, "gap_acc": train_acc - val_acc,
           "epochs_run": len(history["val_ce"]),
           "curves": {k: history[k] for k in ("train_ce", "val_ce", "train_acc", "val_acc")}}
    if stop is not None:
        out.update(best_epoch=stop.best_epoch, stopped_epoch=stop.stopped_epoch)
    model.eval()
    with gradlab.no_grad():
        prob = F.softmax(model(data.x_val), dim=1).numpy()
    return {**out, **C.calibration(prob, data.y_val.numpy(), BINS), "model": model}


def _expected_activation_error(model: nn.Module, x: gradlab.Tensor, samples: int = 50) -> float:
    """Relative difference between the mean (over masks and inputs) of the
    first dropout layer's training-mode output and its eval-mode output."""
    cut = next(i for i, m in enumerate(model) if isinstance(m, nn.Dropout))
    head = nn.Sequential(*list(model)[:cut + 1])
    with gradlab.no_grad():
        head.train()
        train_mean = np.mean([head(x).numpy().mean(axis=0) for _ in range(samples)], axis=0)
        head.eval()
        eval_mean = head(x).numpy().mean(axis=0)
    return float(np.linalg.norm(train_mean - eval_mean) / np.linalg.norm(eval_mean))


def _sparsity_paths(report: Report, cfg: dict, seed: int) -> tuple[float, float]:
    """Train the L1 and L2 paths, record them, claim, plot; returns the
    near-zero shares of L1 and L2 at comparable strength."""
    data, lambdas = C.digits_data(seed), cfg["lambdas"]
    args = (data, cfg["path_hidden"], cfg["path_epochs"], seed)
    base_acc, base_w = _penalized(None, *args)
    sp: dict = {"lambdas": lambdas, "threshold": NEAR_ZERO, "none": {
        "val_acc": base_acc, "near_zero": float(np.mean(np.abs(base_w) < NEAR_ZERO)),
        "mean_abs": float(np.abs(base_w).mean())}}
    weights = {}
    for kind, cls in (("l1", regularizers.L1), ("l2", regularizers.L2)):
        runs = [_penalized(cls(lam), *args) for lam in lambdas]
        ok = [i for i, (a, _) in enumerate(runs) if a >= base_acc - 0.02]
        # comparable strength: the strongest lambda that costs at most 2 points of val accuracy
        sp[kind] = {"val_acc": [a for a, _ in runs], "near_zero": [float(np.mean(np.abs(w) < NEAR_ZERO))
                                                                   for _, w in runs],
                    "mean_abs": [float(np.abs(w).mean()) for _, w in runs], "chosen": ok[-1] if ok else 0}
        weights[kind] = runs[sp[kind]["chosen"]][1]
    l1, l2 = ({"lambda": lambdas[sp[k]["chosen"]], "near_zero": sp[k]["near_zero"][sp[k]["chosen"]],
               "mean_abs": sp[k]["mean_abs"][sp[k]["chosen"]]} for k in ("l1", "l2"))
    sp["matched"] = {"l1": l1, "l2": l2}
    report.numbers["sparsity"] = sp
    columns = ["lambda", "L1 near-zero", "L1 val acc", "L2 near-zero", "L2 val acc"]
    report.table("regularization path", columns,
                 [[lam, sp["l1"]["near_zero"][i], sp["l1"]["val_acc"][i], sp["l2"]["near_zero"][i],
                   sp["l2"]["val_acc"][i]] for i, lam in enumerate(lambdas)],
                 f"Share of weights with |w| < {NEAR_ZERO:g} (no penalty: {sp['none']['near_zero']:.3f}) and "
                 f"val accuracy (no penalty: {base_acc:.3f}); 64-{cfg['path_hidden']}-10 MLP, all digits.")
    report.claim("L1 drives weights to zero, L2 does not (each at the strongest lambda costing <= 2 points "
                 "of val accuracy)", l1["near_zero"] > 3 * l2["near_zero"] and l1["near_zero"] > 0.2,
                 f"near-zero weights: L1 (lambda {l1['lambda']:.0e}) {l1['near_zero']:.1%} vs L2 "
                 f"(lambda {l2['lambda']:.0e}) {l2['near_zero']:.1%}")
    report.claim("L2 shrinks the weights without zeroing them",
                 l2["mean_abs"] < 0.8 * sp["none"]["mean_abs"] and l2["near_zero"] < 0.1,
                 f"mean |w| {l2['mean_abs']:.4f} vs {sp['none']['mean_abs']:.4f} without penalty; "
                 f"{l2['near_zero']:.1%} near zero")
    zeros = sp["l1"]["near_zero"]
    report.claim("Along the L1 path, sparsity grows with lambda",
                 all(b >= a - 0.01 for a, b in zip(zeros, zeros[1:])) and zeros[-1] > zeros[0] + 0.5,
                 "near-zero share " + " -> ".join(f"{z:.2f}" for z in zeros))
    _, ax = report.figure("weight_histograms", "Weights of the MLP without penalty and with L1 / L2 at the "
                          "strongest lambda costing <= 2 points of val accuracy")
    bins = np.linspace(-0.3, 0.3, 121)
    for w, label in ((base_w, "none"), (weights["l2"], f"L2 {l2['lambda']:.0e}"),
                     (weights["l1"], f"L1 {l1['lambda']:.0e}")):
        ax.hist(w, bins=bins, histtype="step", label=label)
    ax.set(yscale="log", xlabel="weight", ylabel="count")
    ax.legend()
    _, (a, b) = report.figure("paths", f"Regularization paths: share of weights with |w| < {NEAR_ZERO:g} "
                              "and val accuracy against lambda", ncols=2)
    for kind in ("l1", "l2"):
        a.plot(lambdas, sp[kind]["near_zero"], "o-", label=kind.upper())
        b.plot(lambdas, sp[kind]["val_acc"], "o-", label=kind.upper())
    a.set(xscale="log", xlabel="lambda", ylabel="near-zero share")
    b.set(xscale="log", xlabel="lambda", ylabel="val accuracy")
    a.legend()
    return l1["near_zero"], l2["near_zero"]


def _overfit_runs(cfg: dict, seed: int) -> tuple[dict, C.Data]:
    data = C.with_label_noise(C.digits_data(seed, n_train=N_TRAIN), LABEL_NOISE, seed)
    fit = {"data": data, "width": WIDTH, "epochs": EPOCHS, "lr": LR, "seed": seed}
    runs = {"plain": _fit(**fit), "inverted": _fit(**fit, dropout="inverted"),
            "classic": _fit(**fit, dropout="classic"), "early_stopping": _fit(**fit, early=True)}
    runs.update({f"smoothing_{e}": _fit(**fit, eps=e) for e in cfg["eps"] if e > 0})
    runs.update({f"input_noise_{s}": _fit(**fit, input_noise=s) for s in cfg["input_noise"]})
    runs.update({f"weight_noise_{s}": _fit(**fit, weight_noise=s) for s in cfg["weight_noise"]})
    if cfg["clean"]:
        clean = {**fit, "data": C.digits_data(seed, n_train=N_TRAIN)}
        runs.update({f"clean_{k}": _fit(**clean, dropout=d) for k, d in
                     (("plain", ""), ("inverted", "inverted"), ("classic", "classic"))})
    return runs, data


def _claims(report: Report, runs: dict, eps: list[float], noise_key: str) -> None:
    p, inv, cla, early = runs["plain"], runs["inverted"], runs["classic"], runs["early_stopping"]
    report.claim("Dropout (inverted and classic) narrows the gap between val and train loss",
                 inv["gap_loss"] < p["gap_loss"] and cla["gap_loss"] < p["gap_loss"],
                 f"gap {p['gap_loss']:.3f} plain vs {inv['gap_loss']:.3f} inverted, "
                 f"{cla['gap_loss']:.3f} classic")
    mc = report.numbers["dropout_expectation_error"]
    report.claim("Inverted and classic dropout give the same expected activations at test",
                 max(mc.values()) < 0.05,
                 f"|E_mask[train output] - eval output| / |eval output| at the first dropout layer: "
                 f"{mc['inverted']:.3f} inverted, {mc['classic']:.3f} classic (50 masks)")
    se = report.numbers["dropout_val_acc_diff"]["se"]
    report.claim("Inverted and classic dropout reach val accuracies within two standard errors",
                 abs(inv["val_acc"] - cla["val_acc"]) <= 2 * se,
                 f"{inv['val_acc']:.3f} inverted vs {cla['val_acc']:.3f} classic, 2 SE = {2 * se:.3f} "
                 f"(plain {p['val_acc']:.3f})")
    report.claim("Early stopping's val loss is below the overtrained run's",
                 early["val_loss"] < p["val_loss"],
                 f"{early['val_loss']:.3f} (best epoch {early['best_epoch']}, stopped at "
                 f"{early['stopped_epoch']}) vs {p['val_loss']:.3f} after {p['epochs_run']} epochs")
    conf = report.numbers["smoothing"]["confidence"]
    report.claim("Label smoothing lowers the confidence (mean max softmax probability), more with larger eps",
                 all(b < a for a, b in zip(conf, conf[1:])),
                 ", ".join(f"eps={e}: {c:.3f}" for e, c in zip(eps, conf)))
    s = runs[f"smoothing_{eps[1]}"]
    report.claim(f"Light label smoothing (eps={eps[1]}) lowers the calibration error (ECE)",
                 s["ece"] < p["ece"], f"ECE {s['ece']:.3f} vs {p['ece']:.3f} without smoothing")
    noise = runs[noise_key]
    report.claim(f"Gaussian input noise (std {noise_key.rsplit('_', 1)[1]}) raises val accuracy and narrows "
                 "the gap", noise["val_acc"] > p["val_acc"] and noise["gap_loss"] < p["gap_loss"],
                 f"val acc {noise['val_acc']:.3f} vs {p['val_acc']:.3f}, loss gap {noise['gap_loss']:.3f} vs "
                 f"{p['gap_loss']:.3f}")


def _plot(report: Report, runs: dict, eps: list[float], noise_key: str) -> None:
    _, (a, b) = report.figure("dropout_curves", "Train (dashed) and val (solid) cross-entropy in eval "
                              "mode, and the accuracy gap, on 300 digits with 20% wrong labels; the star "
                              "is the epoch early stopping kept", ncols=2)
    for name, color in (("plain", "C0"), ("inverted", "C1"), ("classic", "C2"), (noise_key, "C3")):
        c = runs[name]["curves"]
        a.plot(c["train_ce"], "--", color=color)
        a.plot(c["val_ce"], color=color, label=name)
        b.plot(np.array(c["train_acc"]) - np.array(c["val_acc"]), color=color, label=name)
    early = runs["early_stopping"]
    a.plot([early["best_epoch"]], [early["val_loss"]], "k*", markersize=12, label="early stopping")
    a.set(xlabel="epoch", ylabel="cross-entropy", yscale="log")
    b.set(xlabel="epoch", ylabel="train acc - val acc")
    a.legend(fontsize=7)
    _, (a, b) = report.figure("calibration", "Reliability diagram (val accuracy per confidence bin) and "
                              "confidence histograms, by label smoothing eps", ncols=2)
    centers = (np.arange(BINS) + 0.5) / BINS
    a.plot([0, 1], [0, 1], "k:", label="calibrated")
    for e in eps:
        r = runs["plain" if e == 0 else f"smoothing_{e}"]
        has = r["bin_count"] > 0
        a.plot(centers[has], r["bin_acc"][has], "o-", label=f"eps={e} (ECE {r['ece']:.3f})")
        b.hist(r["conf"], bins=np.linspace(0, 1, 21), histtype="step", label=f"eps={e}")
    a.set(xlabel="confidence", ylabel="accuracy")
    b.set(xlabel="max softmax probability", ylabel="val images")
    a.legend(fontsize=7)


def run(quick: bool = False, seed: int = 0) -> Report:
    """Run the experiment (see the module docstring) and return its report."""
    cfg = CONFIG[bool(quick)]
    report = Report(NAME, "Regularization: L1/L2 sparsity, dropout, early stopping, label smoothing, noise",
                    "L1 vs L2 penalty paths on all digits; dropout, early stopping, label smoothing and "
                    f"noise injection on {N_TRAIN} training digits with {LABEL_NOISE:.0%} wrong labels "
                    f"(64-{WIDTH}-{WIDTH}-10 MLP, Adam, {EPOCHS} epochs).", quick=quick, seed=seed)
    l1_zero, l2_zero = _sparsity_paths(report, cfg, seed)
    runs, data = _overfit_runs(cfg, seed)
    eps, noise_key = cfg["eps"], f"input_noise_{max(cfg['input_noise'])}"
    smoothed = [runs["plain" if e == 0 else f"smoothing_{e}"] for e in eps]
    inv, cla = runs["inverted"], runs["classic"]
    keep = ("train_loss", "val_loss", "train_acc", "val_acc", "gap_loss", "gap_acc", "confidence", "ece",
            "epochs_run", "best_epoch", "stopped_epoch")
    report.numbers.update({
        "runs": {k: {m: r[m] for m in keep if m in r} for k, r in runs.items()},
        "dropout_expectation_error": {k: _expected_activation_error(runs[k]["model"], data.x_val)
                                      for k in ("inverted", "classic")},
        "dropout_val_acc_diff": {"diff": inv["val_acc"] - cla["val_acc"], "se": float(np.sqrt(
            (inv["val_acc"] * (1 - inv["val_acc"]) + cla["val_acc"] * (1 - cla["val_acc"]))
            / len(data.y_val)))},
        "smoothing": {"eps": eps, "confidence": [r["confidence"] for r in smoothed],
                      "ece": [r["ece"] for r in smoothed], "val_acc": [r["val_acc"] for r in smoothed]}})
    columns = ["run", "train acc", "val acc", "acc gap", "train loss", "val loss", "loss gap", "confidence",
               "ECE"]
    metrics = ("train_acc", "val_acc", "gap_acc", "train_loss", "val_loss", "gap_loss", "confidence", "ece")
    report.table("overfitting setting", columns,
                 [[k] + [r[m] for m in metrics] for k, r in runs.items() if not k.startswith("clean")],
                 f"{N_TRAIN} training digits, {LABEL_NOISE:.0%} of their labels wrong (train metrics against "
                 f"those labels), 64-{WIDTH}-{WIDTH}-10 MLP, Adam {LR:g}, {EPOCHS} epochs; eval mode. "
                 "Gaps: train acc - val acc, val loss - train loss.")
    _claims(report, runs, eps, noise_key)
    _notes(report, runs, eps, cfg)
    _plot(report, runs, eps, noise_key)
    p, early, s = runs["plain"], runs["early_stopping"], runs[f"smoothing_{eps[1]}"]
    report.headline = (
        f"L1 zeroes {l1_zero:.0%} of the weights vs {l2_zero:.0%} for L2; dropout cuts the val-train loss "
        f"gap from {p['gap_loss']:.2f} to {inv['gap_loss']:.2f}; early stopping gives val loss "
        f"{early['val_loss']:.2f} vs {p['val_loss']:.2f} overtrained; label smoothing eps={eps[1]} lowers "
        f"ECE {p['ece']:.3f} -> {s['ece']:.3f}; input noise lifts val accuracy {p['val_acc']:.1%} -> "
        f"{runs[noise_key]['val_acc']:.1%}.")
    return report


def _notes(report: Report, runs: dict, eps: list[float], cfg: dict) -> None:
    """Measured side results that are reported but not claimed."""
    p = runs["plain"]
    if len(eps) > 2:
        r = runs[f"smoothing_{eps[-1]}"]
        side = "below" if r["confidence"] < r["val_acc"] else "above"
        report.note(f"Not claimed: at eps={eps[-1]} the mean confidence {r['confidence']:.3f} is {side} "
                    f"the val accuracy {r['val_acc']:.3f} (ECE {r['ece']:.3f} vs {p['ece']:.3f} without "
                    "smoothing).")
    for s in cfg["weight_noise"]:
        r = runs[f"weight_noise_{s}"]
        report.note(f"Not claimed: weight noise (std {s}) gives val accuracy {r['val_acc']:.3f} vs "
                    f"{p['val_acc']:.3f} and a val-train loss gap of {r['gap_loss']:.3f} vs "
                    f"{p['gap_loss']:.3f}.")
    if cfg["clean"]:
        c = {k: runs[f"clean_{k}"] for k in ("plain", "inverted", "classic")}
        report.table("dropout on clean labels", ["run", "train acc", "val acc", "val loss", "loss gap"],
                     [[k, r["train_acc"], r["val_acc"], r["val_loss"], r["gap_loss"]] for k, r in c.items()],
                     f"Not claimed: the same {N_TRAIN} digits without wrong labels.")
