"""Learning rate: too small, good, too large; warmup; decay schedules; the range test.

Reproduces the learning-rate slides of lecture 001 on the digits data with
plain SGD on MLPs:

1. **The rate itself.** One network trained with SGD at rates from 1e-3 to
   3: too small a rate barely moves the loss, a good one drives it close to
   zero, and too large a rate makes it explode (or leaves it at chance
   level, ln 10 = 2.30, once the ReLUs have died).
2. **Warmup** (Goyal et al. 2017, "Accurate, Large Minibatch SGD"): a deep
   batch-normalized MLP with batch 256 at the rate the linear scaling rule
   gives (eta = 0.125 * 256 / 16 = 2.0), with no warmup, a constant warmup
   (0.1 eta for W steps, then eta) and a gradual one (eta (0.1 + 0.9 t / W)).
   "High initial learning rates can make the loss explode; increasing the
   rate linearly over the first steps prevents this"; the jump at the end of
   a constant warmup brings the spike back (Goyal et al.'s figure).
3. **Decay schedules.** From the same large starting rate (SGD, momentum
   0.9, weight decay), StepLR (x0.1 halfway), LinearLR to 1% of the rate
   (Goodfellow et al., section 8.3.1), CosineAnnealingLR and a triangular
   CyclicLR against a constant rate: the decayed rates take large steps
   first and small ones at the end, and end at a lower training loss than
   the constant rate, which keeps bouncing at the level its step size allows.
4. **The range test** (Smith 2017): ``gradlab.diagnostics.lr_find`` sweeps the
   rate exponentially over one run; its suggestion (steepest descent of the
   smoothed loss) should fall between the too-small and the too-large rates.

"Final training loss" is the mean mini-batch loss over the last epoch (in
training mode), what a training curve shows at its end.
"""

from __future__ import annotations

import math

import numpy as np

import gradlab
from gradlab import optim
from gradlab.data import DataLoader, TensorDataset
from gradlab.diagnostics import lr_find
from gradlab.lab._common import Data, digits_data, mlp, seeded, train_epoch
from gradlab.lab.report import Report
from gradlab.nn import functional as F
from gradlab.optim import lr_scheduler as sched

__all__ = ["run"]

RATES = {"too small": 1e-3, "low": 1e-2, "good": 0.3, "high": 1.0, "too large": 3.0}
WARMUP = {"base_lr": 0.125, "base_batch": 16, "batch": 256, "depth": 6, "steps": 30}
DECAY = {"lr": 0.1, "momentum": 0.9, "weight_decay": 5e-3}


def _train(model: gradlab.nn.Module, opt: optim.Optimizer, data: Data, epochs: int, batch_size: int,
           rng: np.random.Generator, schedule: sched.LRScheduler | None = None
           ) -> tuple[list[float], list[float], float]:
    """Train, stepping ``schedule`` after every batch; returns the loss and
    the rate of every step and the final training loss (mean over the last
    epoch, inf if the loss stopped being finite)."""
    losses: list[float] = []
    lrs: list[float] = []

    def after(loss: float) -> bool:
        losses.append(loss)
        lrs.append(opt.param_groups[0]["lr"])
        if schedule is not None:
            schedule.step()
        return not math.isfinite(loss)

    final = math.inf
    with np.errstate(all="ignore"):  # a diverging run overflows on purpose
        for _ in range(epochs):
            final = train_epoch(model, opt, data, batch_size, rng, after_step=after)
            if not math.isfinite(losses[-1]):
                return losses, lrs, math.inf
    return losses, lrs, final


def _smooth(values: list[float], window: int) -> np.ndarray:
    x = np.minimum(np.asarray(values, dtype=np.float64), 1e3)  # keep explosions on the plot
    if len(x) < window:
        return x
    return np.convolve(x, np.ones(window) / window, mode="valid")


def _rates(report: Report, data: Data, seed: int, epochs: int) -> dict[str, float]:
    final: dict[str, float] = {}
    fig, ax = report.figure("rates", "Training loss (moving average of 10 steps) at each rate; "
                            "SGD, batch 32, MLP 64-100-100-10")
    for label, lr in RATES.items():
        rng = seeded(seed)
        model = mlp([64, 100, 100, 10])
        losses, _, final[label] = _train(model, optim.SGD(model.parameters(), lr=lr), data, epochs, 32, rng)
        ax.plot(_smooth(losses, 10), label=f"{label} ({lr:g})")
        report.numbers.setdefault("rate_peak_loss", {})[label] = float(np.max(losses))
    ax.set(xlabel="step", ylabel="training loss", yscale="log", ylim=(None, 20))
    ax.legend(fontsize=8)
    report.numbers["rates"] = dict(RATES)
    report.numbers["rate_final_loss"] = final
    report.table("learning rates", ["group", "learning rate", "final training loss", "peak loss"],
                 [[k, RATES[k], final[k], report.numbers["rate_peak_loss"][k]] for k in RATES],
                 "SGD without momentum; final loss = mean over the last epoch (inf: diverged)")
    return final


def _warmup(report: Report, data: Data, seed: int, epochs: int) -> dict[str, float]:
    cfg = WARMUP
    lr = sched.linear_scaling_rule(cfg["base_lr"], cfg["base_batch"], cfg["batch"])
    final: dict[str, float] = {}
    peak: dict[str, float] = {}
    fig, (ax_loss, ax_lr) = report.figure(
        "warmup", f"Batch {cfg['batch']} at lr {lr:g} (linear scaling from {cfg['base_lr']:g} at batch "
        f"{cfg['base_batch']}): loss and rate with no, constant and gradual warmup over "
        f"{cfg['steps']} steps", ncols=2)
    for mode in ("none", "constant", "linear"):
        rng = seeded(seed)
        model = mlp([64] + [100] * cfg["depth"] + [10], batch_norm=True)
        opt = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
        after = sched.ConstantLR(opt, factor=1.0, total_iters=0)
        schedule = after if mode == "none" else sched.Warmup(opt, after, cfg["steps"], mode=mode,
                                                              start_factor=0.1)
        losses, lrs, final[mode] = _train(model, opt, data, epochs, cfg["batch"], rng, schedule)
        peak[mode] = float(np.max(losses))
        label = {"none": "no warmup", "constant": "constant warmup", "linear": "gradual warmup"}[mode]
        ax_loss.plot(np.minimum(losses, 1e3), label=label)
        ax_lr.plot(lrs, label=label)
    ax_loss.set(xlabel="step", ylabel="training loss", yscale="log")
    ax_lr.set(xlabel="step", ylabel="learning rate")
    ax_loss.legend(fontsize=8)
    report.numbers["warmup_lr"] = lr
    report.numbers["warmup_final_loss"] = final
    report.numbers["warmup_peak_loss"] = peak
    report.table("warmup", ["warmup", "final training loss", "peak loss"],
                 [[m, final[m], peak[m]] for m in final],
                 f"{cfg['depth']} hidden layers of 100 with batch norm, SGD momentum 0.9, lr {lr:g}")
    return final


def _schedules(report: Report, data: Data, seed: int, epochs: int) -> dict[str, float]:
    lr, batch = DECAY["lr"], 32
    total = epochs * math.ceil(data.n_train / batch)
    makers = {
        "constant": lambda o: None,
        "step": lambda o: sched.StepLR(o, step_size=total // 2, gamma=0.1),
        "linear to 1%": lambda o: sched.LinearLR(o, 1.0, 0.01, total),
        "cosine": lambda o: sched.CosineAnnealingLR(o, total),
        "cyclic": lambda o: sched.CyclicLR(o, lr * 0.01, lr, step_size_up=total // 4, cycle_momentum=False),
    }
    final: dict[str, float] = {}
    fig, (ax_lr, ax_loss) = report.figure(
        "schedules", f"Schedules from lr {lr:g} (SGD momentum {DECAY['momentum']}, weight decay "
        f"{DECAY['weight_decay']:g}): rate and training loss (moving average of 20 steps)", ncols=2)
    for name, make in makers.items():
        rng = seeded(seed)
        model = mlp([64, 100, 100, 10])
        opt = optim.SGD(model.parameters(), lr=lr, momentum=DECAY["momentum"],
                        weight_decay=DECAY["weight_decay"])
        losses, lrs, final[name] = _train(model, opt, data, epochs, batch, rng, make(opt))
        ax_lr.plot(lrs, label=name)
        ax_loss.plot(_smooth(losses, 20), label=name)
    ax_lr.set(xlabel="step", ylabel="learning rate")
    ax_loss.set(xlabel="step", ylabel="training loss", yscale="log")
    ax_lr.legend(fontsize=8)
    report.numbers["schedule_final_loss"] = final
    report.table("schedules", ["schedule", "final training loss", "vs constant"],
                 [[k, v, v / final["constant"]] for k, v in final.items()],
                 f"{epochs} epochs, batch {batch}, all starting at lr {lr:g}")
    return final


def _range_test(report: Report, data: Data, seed: int) -> float | None:
    seeded(seed)
    model = mlp([64, 100, 100, 10])
    opt = optim.SGD(model.parameters(), lr=RATES["good"])
    loader = DataLoader(TensorDataset(data.x_train, data.y_train), batch_size=32, shuffle=True,
                        generator=gradlab.Generator().manual_seed(seed))
    with np.errstate(all="ignore"):
        result = lr_find(model, opt, loader, F.cross_entropy, start_lr=1e-5, end_lr=10.0, num_iter=120)
    fig, ax = report.figure("range_test", "Learning-rate range test: smoothed loss during one run "
                            "with an exponentially growing rate; dashed: the suggestion")
    ax.plot(result.lrs, np.minimum(result.smoothed, 1e3), label="smoothed loss")
    ax.set_ylim(0, 1.6 * result.smoothed[0])  # the divergence at the end would hide the dip
    if result.suggestion is not None:
        ax.axvline(result.suggestion, color="red", linestyle="--", label=f"suggested {result.suggestion:.2g}")
    for label in ("too small", "good", "too large"):
        ax.axvline(RATES[label], color="gray", linestyle=":", linewidth=1)
        ax.text(RATES[label], ax.get_ylim()[1], label, rotation=90, va="top", fontsize=7)
    ax.set(xscale="log", xlabel="learning rate", ylabel="loss")
    ax.legend(fontsize=8)
    report.numbers["range_test"] = {"suggestion": result.suggestion, "diverged": result.diverged,
                                    "steps": len(result.lrs), "last_lr": result.lrs[-1]}
    return result.suggestion


def run(quick: bool = False, seed: int = 0) -> Report:
    """Too small / good / too large rates, warmup, decay schedules and the
    range test on digits MLPs."""
    report = Report(name="learning-rate", title="Learning rate: size, warmup, schedules, range test",
                    description=(__doc__ or "").split("\n\n")[1], quick=quick, seed=seed)
    data = digits_data(seed)
    rates = _rates(report, data, seed, epochs=5 if quick else 10)
    warm = _warmup(report, data, seed, epochs=10 if quick else 15)
    decay = _schedules(report, data, seed, epochs=6 if quick else 15)
    suggestion = _range_test(report, data, seed)

    good, small, large = rates["good"], rates["too small"], rates["too large"]
    chance = math.log(10)
    report.claim("Too small a rate ends far above the good one (more than 10x its final loss)",
                 small > 10 * good, f"{small:.3g} at lr {RATES['too small']:g} vs {good:.3g} at lr "
                 f"{RATES['good']:g}")
    report.claim("Too large a rate explodes or stays at chance level (final loss >= 0.9 ln 10)",
                 not large < 0.9 * chance, f"final {large:.3g}, peak "
                 f"{report.numbers['rate_peak_loss']['too large']:.3g} at lr {RATES['too large']:g}")
    best = min(rates, key=lambda k: rates[k])
    report.claim("The good rate ends lowest of all the rates tried", best == "good",
                 ", ".join(f"{k}: {v:.3g}" for k, v in rates.items()))
    report.claim("At a large rate, gradual warmup ends lower than no warmup",
                 warm["linear"] < warm["none"], f"{warm['linear']:.3g} vs {warm['none']:.3g}")
    report.claim("Gradual warmup also beats constant warmup (the jump after it hurts)",
                 warm["linear"] < warm["constant"], f"{warm['linear']:.3g} vs {warm['constant']:.3g}")
    decayed = ("step", "linear to 1%", "cosine")
    report.claim("Each decaying schedule (step, linear to 1%, cosine) ends lower than the constant rate",
                 all(decay[k] < decay["constant"] for k in decayed),
                 ", ".join(f"{k}: {decay[k]:.3g}" for k in decayed) + f" vs constant {decay['constant']:.3g}")
    report.claim("The range test suggests a rate between the too-small and the too-large ones",
                 suggestion is not None and RATES["too small"] < suggestion < RATES["too large"],
                 f"suggestion {suggestion:.3g}" if suggestion is not None else "no suggestion")
    worst_decay = max(decay[k] for k in decayed)
    report.headline = (
        f"Final training loss {good:.3g} at lr {RATES['good']:g} vs {small:.3g} at {RATES['too small']:g} "
        f"and {large:.3g} at {RATES['too large']:g}; gradual warmup {warm['linear']:.3g} vs "
        f"{warm['none']:.3g} without; decayed schedules <= {worst_decay:.3g} vs constant "
        f"{decay['constant']:.3g}; range test suggests "
        + (f"{suggestion:.2g}" if suggestion is not None else "nothing"))
    report.note("Rates, warmup and schedules each train a fresh network from the same seed; the "
                "range test restores its network afterwards (lr_find).")
    return report
