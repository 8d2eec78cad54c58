"""Every first-order optimizer against torch.optim, step for step for 200
steps in float64, on a small MLP and on a quadratic."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from optim_problems import gl_problem, groups, torch_problem

import gradlab
from gradlab import optim

STEPS = 200

# (gradlab class, torch class, kwargs, base lr); lr is set per case so that
# 200 steps move the parameters a long way without diverging.
CASES = [
    ("SGD", {}, 0.05),
    ("SGD", {"momentum": 0.9}, 0.01),
    ("SGD", {"momentum": 0.9, "dampening": 0.3}, 0.01),
    ("SGD", {"momentum": 0.9, "nesterov": True}, 0.01),
    ("SGD", {"momentum": 0.5, "weight_decay": 0.05}, 0.02),
    ("SGD", {"momentum": 0.9, "maximize": True}, 0.01),
    ("Adam", {}, 0.01),
    ("Adam", {"amsgrad": True}, 0.01),
    ("Adam", {"weight_decay": 0.1, "betas": (0.8, 0.99)}, 0.01),
    ("Adam", {"maximize": True, "eps": 1e-6}, 0.01),
    ("Adam", {"weight_decay": 0.1, "decoupled_weight_decay": True}, 0.01),
    ("AdamW", {}, 0.01),
    ("AdamW", {"amsgrad": True, "weight_decay": 0.3}, 0.01),
    ("NAdam", {}, 0.01),
    ("NAdam", {"weight_decay": 0.01, "momentum_decay": 0.01}, 0.01),
    ("NAdam", {"weight_decay": 0.05, "decoupled_weight_decay": True}, 0.01),
    ("RMSprop", {}, 0.001),
    ("RMSprop", {"centered": True}, 0.001),
    ("RMSprop", {"momentum": 0.8}, 0.001),
    ("RMSprop", {"momentum": 0.8, "centered": True, "weight_decay": 0.01}, 0.001),
    ("RMSprop", {"alpha": 0.9, "maximize": True, "eps": 1e-4}, 0.001),
    ("Adagrad", {}, 0.05),
    ("Adagrad", {"lr_decay": 0.01, "initial_accumulator_value": 0.1}, 0.1),
    ("Adagrad", {"weight_decay": 0.05, "eps": 1e-6}, 0.1),
    ("Adadelta", {}, 1.0),
    ("Adadelta", {"rho": 0.95, "weight_decay": 0.01, "eps": 1e-5}, 0.5),
    ("Adadelta", {"maximize": True}, 1.0),
]


@pytest.fixture(autouse=True)
def _torch_float64():
    # PyTorch keeps scalar optimizer state (NAdam's mu product) in the default
    # dtype; float64 makes it comparable to 1e-10.
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)


def _run(name: str, kwargs: dict, lr: float, problem: str, split: bool) -> None:
    gl_params, gl_loss = gl_problem(problem)
    th_params, th_loss = torch_problem(problem)
    sign = -1.0 if kwargs.get("maximize") else 1.0
    lrs = (lr, lr * 0.3)
    gl_opt = getattr(optim, name)(groups(gl_params, split, lrs), lr=lr, **kwargs)
    th_opt = getattr(torch.optim, name)(groups(th_params, split, lrs), lr=lr, **kwargs)
    for step in range(STEPS):
        gl_opt.zero_grad()
        (sign * gl_loss()).backward()
        gl_opt.step()
        th_opt.zero_grad()
        (sign * th_loss()).backward()
        th_opt.step()
        if step % 20 == 19 or step < 3:
            for i, (g, t) in enumerate(zip(gl_params, th_params)):
                np.testing.assert_allclose(g.detach().numpy(), t.detach().numpy(), rtol=1e-10,
                                           atol=1e-10, err_msg=f"param {i} after step {step + 1}")
    # the run must have moved: otherwise the comparison says little
    start, _ = gl_problem(problem)
    moved = max(np.abs(g.detach().numpy() - s.detach().numpy()).max()
                for g, s in zip(gl_params, start))
    assert moved > 1e-2


@pytest.mark.parametrize("name,kwargs,lr", CASES,
                         ids=[f"{n}-{'-'.join(k) or 'default'}" for n, k, _ in CASES])
@pytest.mark.parametrize("problem", ["mlp", "quadratic"])
def test_matches_torch(name: str, kwargs: dict, lr: float, problem: str) -> None:
    _run(name, kwargs, lr, problem, split=False)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "NAdam", "RMSprop", "Adagrad",
                                  "Adadelta"])
def test_two_param_groups_with_different_lr(name: str) -> None:
    kwargs = {"momentum": 0.9} if name in ("SGD", "RMSprop") else {}
    lr = {"SGD": 0.01, "RMSprop": 0.002, "Adagrad": 0.1, "Adadelta": 1.0}.get(name, 0.01)
    _run(name, kwargs, lr, "mlp", split=True)


def test_group_overrides_default_hyperparameters() -> None:
    gl_params, gl_loss = gl_problem("mlp")
    th_params, th_loss = torch_problem("mlp")
    spec = [{"params": [0, 1], "momentum": 0.0}, {"params": [2, 3], "weight_decay": 0.1}]

    def build(ps, cls):
        return cls([{**g, "params": [ps[i] for i in g["params"]]} for g in spec],
                   lr=0.01, momentum=0.9)
    gl_opt, th_opt = build(gl_params, optim.SGD), build(th_params, torch.optim.SGD)
    for _ in range(50):
        for opt, loss in ((gl_opt, gl_loss), (th_opt, th_loss)):
            opt.zero_grad()
            loss().backward()
            opt.step()
    for g, t in zip(gl_params, th_params):
        np.testing.assert_allclose(g.detach().numpy(), t.detach().numpy(), rtol=1e-10, atol=1e-12)
    assert gl_opt.param_groups[0]["momentum"] == 0.0
    assert gl_opt.param_groups[1]["momentum"] == 0.9
    assert "momentum_buffer" not in gl_opt.state[gl_params[0]]


@pytest.mark.parametrize("line_search", [None, "strong_wolfe"])
@pytest.mark.parametrize("problem", ["mlp", "quadratic"])
def test_lbfgs_matches_torch(line_search: str | None, problem: str) -> None:
    gl_params, gl_loss = gl_problem(problem)
    th_params, th_loss = torch_problem(problem)
    kwargs = dict(lr=1 if line_search else 0.5, max_iter=10, history_size=5,
                  line_search_fn=line_search)
    gl_opt = optim.LBFGS(gl_params, **kwargs)
    th_opt = torch.optim.LBFGS(th_params, **kwargs)

    def closure(opt, loss_fn):
        def run():
            opt.zero_grad()
            loss = loss_fn()
            loss.backward()
            return loss
        return run

    initial = float(gl_loss())
    # 4 steps of 10 iterations on the MLP: past that, quasi-Newton steps on
    # its flat directions amplify rounding beyond 1e-10 (both are right)
    for step in range(4 if problem == "mlp" else 8):
        gl_first = gl_opt.step(closure(gl_opt, gl_loss))
        th_first = th_opt.step(closure(th_opt, th_loss))
        assert abs(float(gl_first) - th_first.item()) <= 1e-10 * max(1.0, abs(th_first.item()))
        for i, (g, t) in enumerate(zip(gl_params, th_params)):
            np.testing.assert_allclose(g.detach().numpy(), t.detach().numpy(), rtol=1e-10,
                                       atol=1e-10, err_msg=f"param {i} after step {step + 1}")
    gl_state, th_state = gl_opt.state[gl_params[0]], th_opt.state[th_params[0]]
    assert gl_state["func_evals"] == th_state["func_evals"]
    assert gl_state["n_iter"] == th_state["n_iter"]
    assert float(gl_loss()) < initial - 1.0


def test_foreach_and_fused_flags_change_nothing() -> None:
    results = []
    for flags in ({}, {"foreach": True}, {"fused": True}, {"foreach": False}):
        ps, loss = gl_problem("mlp")
        opt = optim.Adam(ps, lr=0.01, **flags)
        for _ in range(20):
            opt.zero_grad()
            loss().backward()
            opt.step()
        results.append(np.concatenate([p.detach().numpy().ravel() for p in ps]))
    for r in results[1:]:
        np.testing.assert_array_equal(r, results[0])


def test_float32_parameters_stay_float32() -> None:
    p = gradlab.tensor(np.ones(4, np.float32), requires_grad=True)
    opt = optim.Adam([p], lr=0.1)
    (p * p).sum().backward()
    opt.step()
    assert p.dtype == np.float32
    assert opt.state[p]["exp_avg"].dtype == np.float32
    np.testing.assert_allclose(p.detach().numpy(), 0.9, rtol=1e-6)
