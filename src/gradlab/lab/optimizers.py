"""Optimizer race: momentum, adaptive rates and Newton on 2-D surfaces and on the digits.

Reproduces the optimization part of the lectures (000: "Comparing
optimizers"; 002: momentum, Nesterov, AdaGrad, RMSProp with Nesterov
momentum (Goodfellow et al., Algorithm 8.6), Adam; 003: Newton-Raphson and
why AdaGrad/RMSProp/Adam approximate it). Each method is gradlab's own
optimizer stepping a 2-parameter float64 tensor theta = (x, y) on a loss
written as a gradlab expression:

- an ill-conditioned quadratic L = (x^2 + kappa y^2) / 2 with kappa = 100,
  the lecture's theta . A theta with a_1 << a_2. Gradient descent with step
  eta contracts the flat direction by (1 - eta) per step and must keep
  eta < 2 / kappa for the steep one, so it needs O(kappa) steps; momentum
  needs O(sqrt(kappa)); Newton's step theta - H^-1 g = theta - A^-1 A theta
  lands on the minimum at once (lr = 1).
- Rosenbrock's banana L = (1 - x)^2 + 100 (y - x^2)^2: a curved valley that
  GD "moves quickly down the walls, but very slowly through the valley floor".
- a saddle L = 5 x^2 + y^4 / 4 - y^2 / 2 (curvature +10 and -1 at the origin,
  minima at (0, +-1)), started a hair off the ridge: GD's step is limited by
  the steep direction and |y| grows only by (1 + eta) per step, while the
  adaptive methods divide the tiny gradient by its own size and step away.

Every first-order method runs on a grid of learning rates (all rows side by
side, each row its own parameter, one summed loss so each row's gradient is
its own) and keeps the one that reaches the tolerance L - L* <= 1e-6 (and
stays there) in the fewest steps, ties broken by the final loss; Newton uses
lr = 1. Steps to tolerance count the steps after which the loss stays below
it: plain RMSProp at a constant rate gets there fast and then bounces back
(its running average of g^2 decays near the minimum, so its step grows),
which is why the lectures pair it with learning-rate decay. On this
axis-aligned quadratic the per-coordinate scaling of AdaGrad/RMSProp/Adam
matches the Hessian's diagonal exactly; a rotated valley would favour them
less. Last, the methods race on the digits (an MLP with four hidden ReLU
layers and gradlab's default initialization, which starts on a plateau at
loss ln 10; mini-batches of 32; each method at the best of a learning-rate
grid) and the full training loss after a short budget of steps (about three
epochs) is compared: the race measures speed, and a well-tuned SGD narrows
the gap as training goes on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

import gradlab
from gradlab import optim
from gradlab.lab import _common
from gradlab.lab.report import Report

__all__ = ["METHODS", "SURFACES", "run"]

TOL = 1e-6

# method -> (optimizer class, its options); the learning rate comes from a grid
METHODS: dict[str, tuple[type[optim.Optimizer], dict[str, Any]]] = {
    "GD": (optim.SGD, {}),
    "momentum": (optim.SGD, {"momentum": 0.9}),
    "Nesterov": (optim.SGD, {"momentum": 0.9, "nesterov": True}),
    "AdaGrad": (optim.Adagrad, {}),
    "AdaDelta": (optim.Adadelta, {}),
    "RMSProp": (optim.RMSprop, {}),
    "RMSProp+Nesterov": (optim.RMSprop, {"momentum": 0.9, "nesterov": True}),
    "Adam": (optim.Adam, {}),
}
ADAPTIVE = ("AdaGrad", "RMSProp", "Adam")
COLORS = dict(zip([*METHODS, "Newton"], ["black", "tab:blue", "tab:cyan", "tab:green", "tab:olive",
                                         "tab:orange", "tab:brown", "tab:red", "tab:purple"]))


@dataclass(frozen=True)
class Surface:
    """A 2-D test loss: ``fn(x, y)`` works on tensors and arrays alike."""

    name: str
    formula: str
    fn: Callable[[Any, Any], Any]
    start: tuple[float, float]
    minimum: tuple[float, float]
    box: tuple[float, float, float, float]  # x0, x1, y0, y1 of the contour plot

    @property
    def f_min(self) -> float:
        return float(self.fn(*self.minimum))


SURFACES = (
    Surface("quadratic", "(x^2 + 100 y^2) / 2", lambda x, y: 0.5 * (x ** 2 + 100 * y ** 2),
            (-4.0, 1.0), (0.0, 0.0), (-4.6, 1.0, -1.4, 1.4)),
    Surface("rosenbrock", "(1 - x)^2 + 100 (y - x^2)^2",
            lambda x, y: (1 - x) ** 2 + 100 * (y - x ** 2) ** 2,
            (-1.2, 1.0), (1.0, 1.0), (-1.7, 1.5, -0.6, 2.2)),
    Surface("saddle", "5 x^2 + y^4 / 4 - y^2 / 2", lambda x, y: 5 * x ** 2 + y ** 4 / 4 - y ** 2 / 2,
            (1.0, 1e-4), (0.0, 1.0), (-1.3, 1.3, -0.6, 1.5)),
)


def _start(surface: Surface, rng: np.random.Generator) -> np.ndarray:
    """The surface's start, jittered by the seed (a few percent; the saddle's
    tiny offset from the ridge by up to a factor 2)."""
    x, y = surface.start
    if surface.name == "saddle":
        return np.array([x * rng.uniform(0.9, 1.1), y * rng.uniform(1.0, 2.0)])
    return np.array([x, y]) * rng.uniform(0.95, 1.05, size=2)


def steps_to_tol(gaps: np.ndarray, tol: float = TOL) -> int | None:
    """The number of steps after which ``gaps`` (L - L* after 0, 1, 2, ...
    steps) stays at or below ``tol`` to the end; None if it ends above."""
    above = ~(gaps <= tol)  # nan counts as above
    if above[-1]:
        return None
    return int(np.nonzero(above)[0][-1] + 1) if above.any() else 0


def _race(surface: Surface, start: np.ndarray, lrs: np.ndarray, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Every method at every learning rate for ``steps`` steps from
    ``start``. Returns the paths (steps + 1, methods, lrs, 2) and the loss
    gaps L - L* along them (steps + 1, methods, lrs)."""
    params = [[gradlab.tensor(start, dtype=gradlab.float64, requires_grad=True) for _ in lrs]
              for _ in METHODS]
    optimizers = [cls([{"params": [p], "lr": float(lr)} for p, lr in zip(row, lrs)], **options)
                  for row, (cls, options) in zip(params, METHODS.values())]
    flat = [p for row in params for p in row]
    paths = np.empty((steps + 1, len(METHODS), len(lrs), 2))
    with np.errstate(all="ignore"):  # the largest rates diverge, on purpose
        for t in range(steps):
            for opt in optimizers:
                opt.zero_grad()
            theta = gradlab.cat(flat)  # (x0, y0, x1, y1, ...): each row's loss is its own
            paths[t] = theta.array.reshape(len(METHODS), len(lrs), 2)
            surface.fn(theta[0::2], theta[1::2]).sum().backward()
            for opt in optimizers:
                opt.step()
        paths[steps] = np.stack([p.array for p in flat]).reshape(len(METHODS), len(lrs), 2)
        gaps = surface.fn(paths[..., 0], paths[..., 1]) - surface.f_min
    return paths, gaps


def _newton(surface: Surface, start: np.ndarray, steps: int) -> np.ndarray:
    """The path of exact Newton-Raphson (lr = 1, no damping), (steps + 1, 2)."""
    theta = gradlab.tensor(start, dtype=gradlab.float64, requires_grad=True)
    opt = optim.Newton([theta], lr=1.0)
    path = [theta.array.copy()]
    for _ in range(steps):
        opt.step(lambda: surface.fn(theta[0], theta[1]))
        path.append(theta.array.copy())
    return np.array(path)


def _best(gaps: np.ndarray) -> int:
    """Index of the learning rate (column of ``gaps``, steps x lrs) that
    reaches the tolerance first, ties and misses ranked by the final loss."""
    def key(j: int) -> tuple[float, float]:
        n = steps_to_tol(gaps[:, j])
        final = gaps[-1, j]
        return (np.inf if n is None else n, final if np.isfinite(final) else np.inf)
    return min(range(gaps.shape[1]), key=key)


def _bounce(gaps: np.ndarray, lrs: np.ndarray) -> dict[str, Any]:
    """For the rate (column of ``gaps``) that first gets L - L* <= tol the
    soonest: that step, the first later step back above tol (None if it
    stays) and the largest L - L* after it."""
    first = [int(np.argmax(g <= TOL)) if (g <= TOL).any() else None for g in gaps.T]
    j = min((j for j, f in enumerate(first) if f is not None), key=lambda j: first[j], default=None)
    if j is None:
        return {"lr": None, "first": None, "bounce": None, "max_after": None}
    after = gaps[first[j]:, j]
    up = np.nonzero(~(after <= TOL))[0]
    return {"lr": float(lrs[j]), "first": first[j], "bounce": int(first[j] + up[0]) if len(up) else None,
            "max_after": float(np.nan_to_num(after, nan=np.inf).max())}


def _escape(path: np.ndarray) -> int | None:
    """Steps until the saddle run is more than 0.5 away from the ridge y = 0."""
    away = np.nonzero(np.abs(path[:, 1]) > 0.5)[0]
    return int(away[0]) if len(away) else None


def _train(data: _common.Data, seed: int, method: str, lr: float, hidden: list[int], steps: int,
           every: int) -> tuple[np.ndarray, float]:
    """Train an MLP with ``method`` for ``steps`` mini-batch steps (the
    initialization and batch order depend only on ``seed``). Returns the
    full training loss every ``every`` steps (inf once a run diverges) and
    the final validation accuracy."""
    rng = _common.seeded(seed)
    model = _common.mlp([data.x_train.shape[1], *hidden, 10])
    cls, options = METHODS[method]
    opt = cls(model.parameters(), lr=lr, **options)
    curve = np.full(steps // every + 1, np.inf)
    curve[0] = _common.evaluate(model, data.x_train, data.y_train)[0]
    done, diverged = 0, False

    def after_step(loss: float) -> bool:
        nonlocal done, diverged
        done += 1
        diverged = not np.isfinite(loss)
        if done % every == 0 and not diverged:
            curve[done // every] = _common.evaluate(model, data.x_train, data.y_train)[0]
        return done >= steps or diverged

    with np.errstate(all="ignore"):
        while done < steps and not diverged:
            _common.train_epoch(model, opt, data, 32, rng, after_step=after_step)
        acc = 0.0 if diverged else _common.evaluate(model, data.x_val, data.y_val)[1]
    return np.nan_to_num(curve, nan=np.inf), acc


def _fewer(a: int | None, b: int | None) -> bool:
    """Steps ``a`` beat steps ``b`` (None = never reached)."""
    return a is not None and (b is None or a < b)


def _n(steps: int | None) -> str:
    return "never" if steps is None else str(steps)


def run(quick: bool = False, seed: int = 0) -> Report:
    """Race the optimizers on three surfaces and on the digits."""
    report = Report(name="optimizers", title="Optimizers: momentum, adaptive rates and Newton",
                    description=(__doc__ or "").split("\n\n", 1)[1].strip(), quick=quick, seed=seed)
    rng = _common.seeded(seed)
    lrs = 10 ** np.arange(-4, 1.01, 0.5 if quick else 0.25)
    max_steps = {"quadratic": 400, "rosenbrock": 600, "saddle": 150} if quick else \
        {"quadratic": 1000, "rosenbrock": 3000, "saddle": 400}
    newton_steps = 10 if quick else 20
    names = [*METHODS, "Newton"]
    steps: dict[str, dict[str, int | None]] = {}
    final: dict[str, dict[str, float]] = {}
    chosen: dict[str, dict[str, float]] = {}
    runs: dict[str, dict[str, np.ndarray]] = {}  # surface -> method -> path at its chosen lr
    escape: dict[str, int | None] = {}
    grid_steps: dict[str, dict[str, list[int | None]]] = {}  # steps to tol at every lr of the grid
    grid_final: dict[str, np.ndarray] = {}  # final L - L*, methods x lrs
    for surface in SURFACES:
        start = _start(surface, rng)
        paths, gaps = _race(surface, start, lrs, max_steps[surface.name])
        newton = _newton(surface, start, newton_steps)
        runs[surface.name], steps[surface.name], final[surface.name], chosen[surface.name] = {}, {}, {}, {}
        grid_final[surface.name] = gaps[-1]
        grid_steps[surface.name] = {name: [steps_to_tol(gaps[:, i, j]) for j in range(len(lrs))]
                                    for i, name in enumerate(METHODS)}
        for i, name in enumerate(METHODS):
            j = _best(gaps[:, i])
            runs[surface.name][name] = paths[:, i, j]
            chosen[surface.name][name] = float(lrs[j])
        runs[surface.name]["Newton"] = newton
        chosen[surface.name]["Newton"] = 1.0
        for name in names:
            path = runs[surface.name][name]
            gap = surface.fn(path[:, 0], path[:, 1]) - surface.f_min
            steps[surface.name][name] = steps_to_tol(gap)
            final[surface.name][name] = float(gap[-1])
        if surface.name == "quadratic":
            report.numbers["newton_one_step_distance"] = float(np.linalg.norm(newton[1] - surface.minimum))
            report.numbers["rmsprop_bounce"] = _bounce(gaps[:, list(METHODS).index("RMSProp")], lrs)
        if surface.name == "saddle":
            escape = {name: _escape(runs["saddle"][name]) for name in names}
            report.numbers["newton_saddle_distance"] = float(np.linalg.norm(newton[-1]))
        rows = [[name, chosen[surface.name][name], _n(steps[surface.name][name]), final[surface.name][name]]
                + ([_n(escape[name])] if surface.name == "saddle" else []) for name in names]
        report.table(f"{surface.name}: L = {surface.formula}",
                     ["method", "lr", f"steps to L - L* <= {TOL:g}", "final L - L*"]
                     + (["steps to |y| > 0.5"] if surface.name == "saddle" else []), rows,
                     f"start ({start[0]:.4g}, {start[1]:.3g}); {max_steps[surface.name]} steps "
                     f"({newton_steps} for Newton); lr: the best of {len(lrs)} rates 1e-4..10")
    report.numbers.update(tol=TOL, lr_grid=lrs, max_steps=max_steps, steps_to_tol=steps,
                          final_loss=final, lr=chosen, saddle_escape_steps=escape,
                          grid_steps_to_tol=grid_steps)
    _plot_surfaces(report, runs)
    _plot_grid(report, lrs, grid_final, max_steps)
    digits = _digits(report, seed, quick)
    _claims(report, steps, final, escape, digits)
    q, fr = steps["quadratic"], final["rosenbrock"]
    report.headline = (
        f"On the quadratic with condition number 100, GD needs {_n(q['GD'])} steps to {TOL:g}, "
        f"momentum {_n(q['momentum'])}, Nesterov {_n(q['Nesterov'])}, Adam {_n(q['Adam'])}, Newton "
        f"{_n(q['Newton'])}; on Rosenbrock after {max_steps['rosenbrock']} steps GD is at "
        f"{fr['GD']:.1e}, momentum {fr['momentum']:.1e}, Adam {fr['Adam']:.1e} (Newton: "
        f"{_n(steps['rosenbrock']['Newton'])} steps); on the digits Adam's training loss after "
        f"{digits['steps']} steps is {digits['final_loss']['Adam']:.3f} vs SGD's "
        f"{digits['final_loss']['GD']:.3f}")
    return report


def _digits(report: Report, seed: int, quick: bool) -> dict[str, Any]:
    """The race on the digits: each method at its best learning rate."""
    methods = ["GD", "momentum", "RMSProp", "Adam"] if quick else list(METHODS)
    lrs = 10 ** np.arange(-3.0 if quick else -4.0, 0.01 if quick else 1.01, 0.5)
    hidden, steps, every = ([32] * 4, 100, 10) if quick else ([64] * 4, 150, 10)
    data = _common.digits_data(seed)
    results = {m: {float(lr): _train(data, seed, m, float(lr), hidden, steps, every) for lr in lrs}
               for m in methods}
    best = {m: min(results[m], key=lambda lr, m=m: results[m][lr][0][-1]) for m in methods}
    numbers = {
        "steps": steps, "hidden": hidden, "lr_grid": lrs, "lr": best,
        "final_loss": {m: float(results[m][best[m]][0][-1]) for m in methods},
        "val_acc": {m: results[m][best[m]][1] for m in methods},
        "final_loss_grid": {m: [float(c[-1]) for c, _ in results[m].values()] for m in methods},
    }
    report.numbers["digits"] = numbers
    report.table("digits race", ["method", "lr", f"training loss after {steps} steps", "val accuracy"],
                 [[m, best[m], numbers["final_loss"][m], numbers["val_acc"][m]] for m in methods],
                 f"MLP 64-{'-'.join(map(str, hidden))}-10 (ReLU), batches of 32, same initialization and "
                 f"batch order for all; lr: the best of {len(lrs)} rates by the final training loss")
    fig, (ax, ax_lr) = report.figure("digits_race", "Digits race: full training loss (each method at its "
                                     "best lr) and the final loss at every lr of the grid", 1, 2, (10, 3.8))
    x = np.arange(0, steps + 1, every)
    for m in methods:
        ax.plot(x, results[m][best[m]][0], color=COLORS[m], label=f"{m} (lr {best[m]:.2g})")
        ax_lr.plot(lrs, np.minimum(numbers["final_loss_grid"][m], 10.0), "o-", color=COLORS[m], label=m)
    ax.set(yscale="log", xlabel="step", ylabel="training loss", title="digits race")
    ax_lr.set(xscale="log", yscale="log", xlabel="learning rate", ylabel=f"loss after {steps} steps",
              title="learning-rate grid (clipped at 10)")
    ax.legend(fontsize=7)
    return numbers


def _plot_surfaces(report: Report, runs: dict[str, dict[str, np.ndarray]]) -> None:
    fig, axes = report.figure("paths", "Each method's path at its best learning rate over the loss "
                              "contours (log-spaced levels of L - L*); star: the minimum", 1, 3, (15, 4.4))
    _, curves = report.figure("loss_curves", "L - L* per step (log scale), each method at its best lr",
                              1, 3, (15, 3.8))
    for surface, ax, ax_c in zip(SURFACES, axes, curves):
        x0, x1, y0, y1 = surface.box
        gx, gy = np.meshgrid(np.linspace(x0, x1, 300), np.linspace(y0, y1, 300))
        gap = surface.fn(gx, gy) - surface.f_min
        ax.contour(gx, gy, gap + 1e-3, levels=np.logspace(-3, np.log10(gap.max()), 18),
                   colors="0.75", linewidths=0.6)
        for name, path in runs[surface.name].items():
            ax.plot(path[:, 0], path[:, 1], ".-" if name == "Newton" else "-", color=COLORS[name],
                    lw=1, ms=3, label=name)
            g = surface.fn(path[:, 0], path[:, 1]) - surface.f_min
            ax_c.plot(np.maximum(g, 1e-20), color=COLORS[name], lw=1, label=name)
        ax.plot(*surface.minimum, "*", color="gold", ms=14, mec="black")
        ax.set(xlim=(x0, x1), ylim=(y0, y1), title=f"{surface.name}: {surface.formula}", xlabel="x",
               ylabel="y")
        ax_c.axhline(TOL, color="0.5", ls=":")
        ax_c.set(yscale="log", title=surface.name, xlabel="step", ylabel="L - L*")
    axes[0].legend(fontsize=7, loc="lower right")
    curves[0].legend(fontsize=7, loc="upper right")


def _plot_grid(report: Report, lrs: np.ndarray, grid_final: dict[str, np.ndarray],
               max_steps: dict[str, int]) -> None:
    _, axes = report.figure("lr_grid", "Final L - L* at every learning rate of the grid (diverged runs "
                            "and losses above 1e3 drawn at 1e3; dotted: the tolerance)", 1, 3, (15, 3.6))
    for surface, ax in zip(SURFACES, axes):
        for i, name in enumerate(METHODS):
            final = np.nan_to_num(grid_final[surface.name][i], nan=np.inf)
            ax.plot(lrs, np.clip(final, 1e-20, 1e3), "o-", ms=3, color=COLORS[name], label=name)
        ax.axhline(TOL, color="0.5", ls=":")
        ax.set(xscale="log", yscale="log", xlabel="learning rate", ylabel="final L - L*",
               title=f"{surface.name} after {max_steps[surface.name]} steps")
    axes[0].legend(fontsize=7)


def _claims(report: Report, steps: dict[str, dict[str, int | None]], final: dict[str, dict[str, float]],
            escape: dict[str, int | None], digits: dict[str, Any]) -> None:
    q, r = steps["quadratic"], steps["rosenbrock"]
    d = report.numbers["newton_one_step_distance"]
    report.claim("Newton's method is at the minimum of the quadratic after one step", d < 1e-9,
                 f"distance to the minimum after one step {d:.1e}")
    report.claim("Momentum and Nesterov cross the ill-conditioned quadratic valley in fewer steps than GD",
                 _fewer(q["momentum"], q["GD"]) and _fewer(q["Nesterov"], q["GD"]),
                 f"steps to {TOL:g}: momentum {_n(q['momentum'])}, Nesterov {_n(q['Nesterov'])}, "
                 f"GD {_n(q['GD'])}")
    report.claim("AdaGrad and Adam (adaptive rates) cross it in fewer steps than GD",
                 all(_fewer(q[m], q["GD"]) for m in ("AdaGrad", "Adam")),
                 ", ".join(f"{m} {_n(q[m])}" for m in ("AdaGrad", "Adam", "GD")))
    b = report.numbers["rmsprop_bounce"]
    report.claim("Plain RMSProp at a constant learning rate does not settle: at the rate that gets "
                 f"below {TOL:g} the soonest, its shrinking average of g^2 inflates the step until the "
                 "loss bounces back up (hence the lectures' learning-rate decay)",
                 b["first"] is not None and b["bounce"] is not None and b["max_after"] > 1.0,
                 f"lr {b['lr'] or 0:.3g}: below {TOL:g} at step {_n(b['first'])}, above it again at step "
                 f"{_n(b['bounce'])}, up to {b['max_after'] or 0:.2g} later")
    fr = final["rosenbrock"]
    fast = ("momentum", "Nesterov", "Adam")
    report.claim("GD crawls along the floor of Rosenbrock's curved valley: momentum, Nesterov and Adam "
                 "end at a loss at least 10x lower", all(fr[m] < fr["GD"] / 10 for m in fast),
                 "final L - L*: " + ", ".join(f"{m} {fr[m]:.1e}" for m in (*fast, "GD"))
                 + f" (steps to {TOL:g}: " + ", ".join(f"{m} {_n(r[m])}" for m in (*fast, "GD")) + ")")
    report.claim("Newton's method solves Rosenbrock in fewer steps than every first-order method",
                 all(_fewer(r["Newton"], r[m]) for m in METHODS),
                 f"Newton {_n(r['Newton'])} steps, best first-order "
                 f"{_n(min((n for m, n in r.items() if m != 'Newton' and n is not None), default=None))}")
    report.claim("Plain GD is slow to leave the saddle point; AdaGrad, RMSProp and Adam escape it "
                 "in fewer steps",
                 all(_fewer(escape[m], escape["GD"]) for m in ADAPTIVE),
                 "steps to |y| > 0.5: " + ", ".join(f"{m} {_n(escape[m])}" for m in (*ADAPTIVE, "GD")))
    dist = report.numbers["newton_saddle_distance"]
    report.claim("Pure Newton is attracted to the saddle (it solves grad L = 0; Dauphin et al. 2014)",
                 dist < 1e-6 and final["saddle"]["Newton"] > 0.2,
                 f"Newton ends {dist:.1e} from the saddle, L - L* = {final['saddle']['Newton']:.2f}")
    loss = digits["final_loss"]
    report.claim(f"On the digits, Adam, RMSProp and momentum reach a lower training loss than plain SGD "
                 f"after {digits['steps']} steps",
                 all(loss[m] < loss["GD"] for m in ("Adam", "RMSProp", "momentum")),
                 ", ".join(f"{m} {loss[m]:.3f}" for m in ("Adam", "RMSProp", "momentum", "GD")))
