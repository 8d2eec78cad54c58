"""Every optimizer brings Rosenbrock's function and an ill-conditioned
quadratic from a fixed start below a stated loss within a stated number of
steps (the optax-style convergence check)."""

from __future__ import annotations

import numpy as np
import pytest

import gradlab
from gradlab import optim

ROSENBROCK_START = [-1.5, 2.0]  # loss 12.5; minimum 0 at (1, 1)
QUADRATIC_START = [1.0, 1.0]  # loss 500.5; minimum 0 at (0, 0), condition number 1000
CURVATURE = np.array([1.0, 1000.0])


def rosenbrock(p: gradlab.Tensor) -> gradlab.Tensor:
    return (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2


def quadratic(p: gradlab.Tensor) -> gradlab.Tensor:
    return 0.5 * (gradlab.tensor(CURVATURE) * p * p).sum()


# name, kwargs, steps, bound on Rosenbrock, bound on the quadratic
FIRST_ORDER = [
    ("SGD", {"lr": 1e-3, "momentum": 0.9}, 2000, 1e-7, 1e-4),
    ("SGD", {"lr": 1e-3, "momentum": 0.9, "nesterov": True}, 2000, 1e-7, 1e-4),
    ("Adam", {"lr": 0.05}, 2000, 1e-10, 1e-10),
    ("AdamW", {"lr": 0.05, "weight_decay": 1e-4}, 2000, 1e-6, 1e-10),
    ("NAdam", {"lr": 0.02}, 2000, 1e-3, 1e-10),
    ("RMSprop", {"lr": 0.003}, 2000, 2e-2, 1e-2),
    ("RMSprop", {"lr": 0.003, "momentum": 0.5}, 2000, 1e-4, 1e-10),
    ("RMSprop", {"lr": 0.003, "centered": True}, 2000, 1e-2, 1e-4),
    ("RMSprop", {"lr": 1e-3, "momentum": 0.9, "nesterov": True}, 2000, 1e-3, 1e-10),
    ("Adagrad", {"lr": 1.0}, 2000, 0.1, 1e-10),
    ("Adadelta", {"lr": 1.0}, 2000, 1.0, 1e-1),
]


def _run(cls, kwargs: dict, fn, start: list[float], steps: int) -> float:
    p = gradlab.tensor(np.array(start), requires_grad=True)
    opt = cls([p], **kwargs)
    for _ in range(steps):
        opt.zero_grad()
        fn(p).backward()
        opt.step()
    return fn(p).item()


@pytest.mark.parametrize("name,kwargs,steps,rosen_bound,quad_bound", FIRST_ORDER,
                         ids=[f"{c[0]}-{'-'.join(c[1])}" for c in FIRST_ORDER])
def test_first_order_converges(name, kwargs, steps, rosen_bound, quad_bound) -> None:
    cls = getattr(optim, name)
    assert _run(cls, kwargs, rosenbrock, ROSENBROCK_START, steps) < rosen_bound
    assert _run(cls, kwargs, quadratic, QUADRATIC_START, steps // 4) < quad_bound


@pytest.mark.parametrize("line_search", [None, "strong_wolfe"])
def test_lbfgs_converges(line_search: str | None) -> None:
    for fn, start, steps in ((rosenbrock, ROSENBROCK_START, 10), (quadratic, QUADRATIC_START, 5)):
        p = gradlab.tensor(np.array(start), requires_grad=True)
        opt = optim.LBFGS([p], lr=1 if line_search else 0.5, line_search_fn=line_search)

        def closure(p=p, opt=opt, fn=fn):
            opt.zero_grad()
            loss = fn(p)
            loss.backward()
            return loss
        for _ in range(steps):
            opt.step(closure)
        assert fn(p).item() < 1e-8


def test_newton_converges_on_rosenbrock_and_quadratic() -> None:
    p = gradlab.tensor(np.array(ROSENBROCK_START), requires_grad=True)
    opt = optim.Newton([p])
    for _ in range(10):
        opt.step(lambda: rosenbrock(p))
    assert rosenbrock(p).item() < 1e-20
    q = gradlab.tensor(np.array(QUADRATIC_START), requires_grad=True)
    optim.Newton([q]).step(lambda: quadratic(q))
    assert quadratic(q).item() < 1e-20
