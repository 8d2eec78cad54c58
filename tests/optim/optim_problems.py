"""Problems shared by the optimizer tests: the same objective written in
gradlab and in PyTorch, with parameters made from the same NumPy arrays."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

import gradlab

RNG_SEED = 1234


def mlp_arrays() -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Weights (W1 8x4, b1 8, W2 3x8, b2 3) and data (x 16x4, y 16x3)."""
    rng = np.random.default_rng(RNG_SEED)
    params = [rng.standard_normal((8, 4)) * 0.5, rng.standard_normal(8) * 0.1,
              rng.standard_normal((3, 8)) * 0.5, rng.standard_normal(3) * 0.1]
    x = rng.standard_normal((16, 4))
    y = rng.standard_normal((16, 3))
    return params, x, y


def quadratic_arrays() -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Start theta (5,), an SPD matrix A (condition number ~100) and b."""
    rng = np.random.default_rng(RNG_SEED + 1)
    q, _ = np.linalg.qr(rng.standard_normal((5, 5)))
    a = q @ np.diag([100.0, 30.0, 5.0, 1.0, 1.0]) @ q.T
    b = rng.standard_normal(5)
    return [rng.standard_normal(5)], a, b


def gl_problem(name: str) -> tuple[list[gradlab.Tensor], Callable[[], gradlab.Tensor]]:
    """gradlab parameters (float64 leaves) and the loss as a function of them."""
    if name == "mlp":
        arrays, x, y = mlp_arrays()
        ps = [gradlab.tensor(a.copy(), requires_grad=True) for a in arrays]
        xt, yt = gradlab.tensor(x), gradlab.tensor(y)

        def loss() -> gradlab.Tensor:
            h = gradlab.tanh(xt @ ps[0].t() + ps[1])
            return ((h @ ps[2].t() + ps[3] - yt) ** 2).mean()
        return ps, loss
    arrays, a, b = quadratic_arrays()
    ps = [gradlab.tensor(arrays[0].copy(), requires_grad=True)]
    at, bt = gradlab.tensor(a), gradlab.tensor(b)

    def quad() -> gradlab.Tensor:
        return 0.5 * (ps[0] @ (at @ ps[0])) - bt @ ps[0]
    return ps, quad


def torch_problem(name: str) -> tuple[list[torch.Tensor], Callable[[], torch.Tensor]]:
    if name == "mlp":
        arrays, x, y = mlp_arrays()
        ps = [torch.tensor(a.copy(), requires_grad=True) for a in arrays]
        xt, yt = torch.tensor(x), torch.tensor(y)

        def loss() -> torch.Tensor:
            h = torch.tanh(xt @ ps[0].t() + ps[1])
            return ((h @ ps[2].t() + ps[3] - yt) ** 2).mean()
        return ps, loss
    arrays, a, b = quadratic_arrays()
    ps = [torch.tensor(arrays[0].copy(), requires_grad=True)]
    at, bt = torch.tensor(a), torch.tensor(b)

    def quad() -> torch.Tensor:
        return 0.5 * (ps[0] @ (at @ ps[0])) - bt @ ps[0]
    return ps, quad


def groups(params: list, split: bool, lrs: tuple[float, float]) -> list:
    """The parameters as one list, or as two groups with different rates."""
    if not split or len(params) < 2:
        return list(params)
    half = len(params) // 2
    return [{"params": params[:half], "lr": lrs[0]}, {"params": params[half:], "lr": lrs[1]}]


def rosenbrock(xy):
    """(1 - x)^2 + 100 (y - x^2)^2, minimum 0 at (1, 1); works for both."""
    return (1 - xy[0]) ** 2 + 100 * (xy[1] - xy[0] ** 2) ** 2
