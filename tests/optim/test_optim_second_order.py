"""Newton-Raphson and RMSprop with Nesterov momentum (Algorithm 8.6)."""

from __future__ import annotations

import numpy as np
import pytest
from optim_problems import quadratic_arrays

import gradlab
from gradlab import optim

A_DIAG = np.array([1e-2, 1.0, 30.0, 1e3])  # condition number 1e5


def _quadratic(theta: gradlab.Tensor) -> gradlab.Tensor:
    return (theta * gradlab.tensor(A_DIAG) * theta).sum()  # theta^T A theta


def test_newton_reaches_quadratic_minimum_in_one_step() -> None:
    theta = gradlab.tensor([3.0, -2.0, 1.0, 0.5], requires_grad=True)
    opt = optim.Newton([theta], lr=1.0)
    loss = opt.step(lambda: _quadratic(theta))
    assert loss.item() > 1.0
    np.testing.assert_allclose(theta.detach().numpy(), 0.0, atol=1e-12)
    # the gradient at the start was left in .grad: 2 A theta_0
    np.testing.assert_allclose(theta.grad.numpy(), 2 * A_DIAG * [3.0, -2.0, 1.0, 0.5])


@pytest.mark.parametrize("lr", [0.3, 0.75])
def test_newton_contracts_by_one_minus_lr(lr: float) -> None:
    start = np.array([3.0, -2.0, 1.0, 0.5])
    theta = gradlab.tensor(start.copy(), requires_grad=True)
    opt = optim.Newton([theta], lr=lr)
    for t in range(1, 6):
        opt.step(lambda: _quadratic(theta))
        np.testing.assert_allclose(theta.detach().numpy(), (1 - lr) ** t * start, rtol=1e-12)


def test_newton_damping_solves_shifted_system() -> None:
    start = np.array([3.0, -2.0, 1.0, 0.5])
    theta = gradlab.tensor(start.copy(), requires_grad=True)
    optim.Newton([theta], damping=5.0).step(lambda: _quadratic(theta))
    h = 2 * A_DIAG
    np.testing.assert_allclose(theta.detach().numpy(), start - h * start / (h + 5.0), rtol=1e-12)


def test_newton_full_hessian_across_parameters() -> None:
    # coupled quadratic over two tensors: one step lands on A^-1 b exactly
    _, a, b = quadratic_arrays()
    p1 = gradlab.tensor(np.ones(2), requires_grad=True)
    p2 = gradlab.tensor(np.zeros(3), requires_grad=True)
    at, bt = gradlab.tensor(a), gradlab.tensor(b)

    def loss() -> gradlab.Tensor:
        theta = gradlab.cat([p1, p2])
        return 0.5 * (theta @ (at @ theta)) - bt @ theta
    optim.Newton([{"params": [p1]}, {"params": [p2]}]).step(loss)
    got = np.concatenate([p1.detach().numpy(), p2.detach().numpy()])
    np.testing.assert_allclose(got, np.linalg.solve(a, b), rtol=1e-10)


def test_newton_logistic_regression_converges_in_under_10_steps() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, 3))
    true_w = np.array([1.5, -2.0, 0.5])
    y = (rng.random(200) < 1 / (1 + np.exp(-(x @ true_w + 0.3)))).astype(float)
    w = gradlab.zeros(3, dtype=gradlab.float64, requires_grad=True)
    b = gradlab.zeros(1, dtype=gradlab.float64, requires_grad=True)
    xt, yt = gradlab.tensor(x), gradlab.tensor(y)

    def nll() -> gradlab.Tensor:
        p = gradlab.sigmoid(xt @ w + b)
        return -(yt * gradlab.log(p) + (1 - yt) * gradlab.log(1 - p)).mean()
    opt = optim.Newton([w, b])
    steps = 0
    while True:
        steps += 1
        opt.step(nll)
        grad = np.concatenate([w.grad.numpy(), b.grad.numpy()])
        if np.abs(grad).max() < 1e-10 or steps == 20:
            break
    assert steps < 10
    # at the optimum the next gradient is ~0: check it fresh
    gw, gb = gradlab.autograd.grad(nll(), [w, b])
    assert max(np.abs(gw.numpy()).max(), np.abs(gb.numpy()).max()) < 1e-10
    from sklearn.linear_model import LogisticRegression
    ref = LogisticRegression(C=np.inf, tol=1e-12, max_iter=1000).fit(x, y)
    np.testing.assert_allclose(w.detach().numpy(), ref.coef_[0], rtol=1e-4)


def test_newton_refuses_above_size_limit_and_limit_can_be_raised() -> None:
    w = gradlab.zeros(30, dtype=gradlab.float64, requires_grad=True)
    opt = optim.Newton([w], max_params=20)
    with pytest.raises(RuntimeError, match="max_params=20"):
        opt.step(lambda: (w * w).sum())
    optim.Newton([w], max_params=30).step(lambda: ((w - 1) ** 2).sum())
    np.testing.assert_allclose(w.detach().numpy(), 1.0)


def test_newton_needs_closure_and_clear_singular_error() -> None:
    w = gradlab.zeros(2, dtype=gradlab.float64, requires_grad=True)
    with pytest.raises(RuntimeError, match="closure"):
        optim.Newton([w]).step()
    with pytest.raises(RuntimeError, match="singular"):
        optim.Newton([w]).step(lambda: w.sum() + (w[0] - 1) ** 2)  # no curvature along w[1]
    optim.Newton([w], damping=1.0).step(lambda: w.sum() + (w[0] - 1) ** 2)
    assert np.isfinite(w.detach().numpy()).all()
    with pytest.raises(ValueError, match="damping"):
        optim.Newton([w], damping=-1.0)


# ---------------------------------------------------------------- Algorithm 8.6
def _algorithm_8_6(theta, grad_fn, lr, rho, alpha, steps):
    """Goodfellow, Bengio and Courville, Algorithm 8.6, transcribed: returns
    the sequence of (theta, v) after each step."""
    v = np.zeros_like(theta)
    r = np.zeros_like(theta)
    out = []
    for _ in range(steps):
        interim = theta + alpha * v
        g = grad_fn(interim)
        r = rho * r + (1 - rho) * g * g
        v = alpha * v - lr / np.sqrt(r) * g
        theta = theta + v
        out.append((theta.copy(), v.copy()))
    return out


@pytest.mark.parametrize("lr,rho,alpha", [(0.01, 0.99, 0.9), (0.003, 0.99, 0.5)])
def test_rmsprop_nesterov_is_algorithm_8_6(lr: float, rho: float, alpha: float) -> None:
    start, a, b = quadratic_arrays()
    reference = _algorithm_8_6(start[0].copy(), lambda th: a @ th - b, lr, rho, alpha, 200)
    p = gradlab.tensor(start[0].copy(), requires_grad=True)
    at, bt = gradlab.tensor(a), gradlab.tensor(b)
    opt = optim.RMSprop([p], lr=lr, alpha=rho, momentum=alpha, nesterov=True, eps=0.0)
    for theta, v in reference:
        opt.zero_grad()
        (0.5 * (p @ (at @ p)) - bt @ p).backward()
        opt.step()
        # gradlab holds the look-ahead point theta + alpha v, where 8.6 takes g
        np.testing.assert_allclose(p.detach().numpy(), theta + alpha * v, rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(opt.state[p]["momentum_buffer"].numpy(), v, rtol=1e-10,
                                   atol=1e-10)
    optimum = np.linalg.solve(a, b)
    distance = np.abs(reference[-1][0] - optimum).max()
    assert distance < 0.7 * np.abs(start[0] - optimum).max()  # it made progress


def test_rmsprop_nesterov_needs_momentum() -> None:
    p = gradlab.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="nesterov"):
        optim.RMSprop([p], nesterov=True)
