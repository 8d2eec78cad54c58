"""The optimizer shell: parameter groups, lazy state, zero_grad, closures,
state dicts, hyperparameter validation, and the param_groups helper."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from optim_problems import gl_problem, torch_problem

import gradlab
from gradlab import optim


def _train(opt, loss_fn, steps: int) -> None:
    for _ in range(steps):
        opt.zero_grad()
        loss_fn().backward()
        opt.step()


@pytest.mark.parametrize("name,kwargs", [
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("Adam", {"lr": 0.01, "amsgrad": True}),
    ("AdamW", {"lr": 0.01}),
    ("NAdam", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.001, "momentum": 0.5, "centered": True}),
    ("RMSprop", {"lr": 0.001, "momentum": 0.5, "nesterov": True}),
    ("Adagrad", {"lr": 0.05, "lr_decay": 0.01}),
    ("Adadelta", {"lr": 1.0}),
])
def test_state_dict_round_trip_continues_identically(name: str, kwargs: dict) -> None:
    params_a, loss_a = gl_problem("mlp")
    opt_a = getattr(optim, name)([{"params": params_a[:2]}, {"params": params_a[2:], "lr": 0.003}],
                                 **kwargs)
    _train(opt_a, loss_a, 30)
    snapshot = [p.detach().numpy().copy() for p in params_a]
    state = opt_a.state_dict()
    _train(opt_a, loss_a, 30)  # the snapshot must not change with these steps

    params_b, loss_b = gl_problem("mlp")
    for p, s in zip(params_b, snapshot):
        with gradlab.no_grad():
            p.copy_(s)
    opt_b = getattr(optim, name)([{"params": params_b[:2]}, {"params": params_b[2:]}], **kwargs)
    opt_b.load_state_dict(state)
    assert opt_b.param_groups[1]["lr"] == 0.003  # hyperparameters come back too
    _train(opt_b, loss_b, 30)
    for a, b in zip(params_a, params_b):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


def test_lbfgs_state_dict_round_trip() -> None:
    def make():
        ps, loss = gl_problem("mlp")
        opt = optim.LBFGS(ps, max_iter=4, history_size=3, line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            value = loss()
            value.backward()
            return value
        return ps, opt, closure
    pa, oa, ca = make()
    for _ in range(3):
        oa.step(ca)
    state = oa.state_dict()
    pb, ob, cb = make()
    with gradlab.no_grad():
        for a, b in zip(pa, pb):
            b.copy_(a)
    ob.load_state_dict(state)
    for _ in range(3):
        oa.step(ca)
        ob.step(cb)
    for a, b in zip(pa, pb):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


def test_state_dict_layout_matches_torch() -> None:
    gl_params, gl_loss = gl_problem("mlp")
    th_params, th_loss = torch_problem("mlp")
    gl_opt = optim.Adam([{"params": gl_params[:3]}, {"params": gl_params[3:], "lr": 0.1}])
    th_opt = torch.optim.Adam([{"params": th_params[:3]}, {"params": th_params[3:], "lr": 0.1}])
    _train(gl_opt, gl_loss, 2)
    _train(th_opt, th_loss, 2)
    gs, ts = gl_opt.state_dict(), th_opt.state_dict()
    assert [g["params"] for g in gs["param_groups"]] == [g["params"] for g in ts["param_groups"]]
    assert sorted(gs["state"]) == sorted(ts["state"])
    assert set(gs["state"][0]) == set(ts["state"][0])
    np.testing.assert_allclose(gs["state"][2]["exp_avg_sq"].numpy(),
                               ts["state"][2]["exp_avg_sq"].numpy(), rtol=1e-12)
    assert gs["state"][0]["step"] == ts["state"][0]["step"].item() == 2
    assert set(gs["param_groups"][0]) >= {"lr", "betas", "eps", "weight_decay", "amsgrad"}


def test_load_state_dict_accepts_string_keys_raw_arrays_and_casts_dtype() -> None:
    p64 = gradlab.tensor(np.ones(3), requires_grad=True)
    opt = optim.SGD([p64], lr=0.1, momentum=0.9)
    (p64 * p64).sum().backward()
    opt.step()
    state = opt.state_dict()
    state["state"] = {str(k): v for k, v in state["state"].items()}  # as after JSON keys
    state["state"]["0"]["momentum_buffer"] = state["state"]["0"]["momentum_buffer"].numpy()
    json.dumps(state["param_groups"])  # the groups are plain JSON
    p32 = gradlab.tensor(np.ones(3, np.float32), requires_grad=True)
    other = optim.SGD([p32], lr=0.5, momentum=0.9)
    other.load_state_dict(state)
    assert other.param_groups[0]["lr"] == 0.1
    assert other.state[p32]["momentum_buffer"].dtype == np.float32
    np.testing.assert_allclose(other.state[p32]["momentum_buffer"].numpy(), 2.0)


def test_load_state_dict_rejects_mismatches() -> None:
    a, b = gradlab.zeros(2, requires_grad=True), gradlab.zeros(3, requires_grad=True)
    state = optim.SGD([a, b], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="number of parameter groups"):
        optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1).load_state_dict(state)
    with pytest.raises(ValueError, match="doesn't match the size"):
        optim.SGD([a], lr=0.1).load_state_dict(state)
    with pytest.raises(ValueError, match="'state' and 'param_groups'"):
        optim.SGD([a], lr=0.1).load_state_dict({"state": {}})


def test_state_is_lazy_and_zero_grad_modes() -> None:
    p = gradlab.tensor([1.0, 2.0], requires_grad=True)
    q = gradlab.tensor([3.0], requires_grad=True)
    opt = optim.Adam([p, q], lr=0.1)
    assert len(opt.state) == 0
    (p * p).sum().backward()
    opt.step()
    assert set(opt.state[p]) == {"step", "exp_avg", "exp_avg_sq"}
    assert q not in opt.state  # no gradient, no state, no update
    assert q.item() == 3.0
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(p.grad.numpy(), [0.0, 0.0])
    opt.zero_grad()
    assert p.grad is None


def test_step_with_closure_returns_its_loss() -> None:
    p = gradlab.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([p], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss
    with gradlab.no_grad():  # the closure still records its graph
        loss = opt.step(closure)
    assert loss.item() == 5.0
    np.testing.assert_allclose(p.detach().numpy(), [0.5, 1.0])
    assert opt.step() is None


def test_add_param_group_uses_defaults_and_requires_lr() -> None:
    a, b = gradlab.zeros(2, requires_grad=True), gradlab.zeros(2, requires_grad=True)
    opt = optim.SGD([a], lr=0.1, momentum=0.9)
    opt.add_param_group({"params": b, "lr": 0.01})
    assert opt.param_groups[1]["momentum"] == 0.9 and opt.param_groups[1]["lr"] == 0.01
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(ValueError, match="momentum"):
        opt.add_param_group({"params": [gradlab.zeros(1, requires_grad=True)], "momentum": -1})

    class Custom(optim.Optimizer):
        def __init__(self, params):
            super().__init__(params, {"lr": optim.required})
    with pytest.raises(ValueError, match="required optimization parameter lr"):
        Custom([a])


def test_bad_params_argument() -> None:
    a = gradlab.zeros(2, requires_grad=True)
    with pytest.raises(TypeError, match="iterable of Tensors"):
        optim.SGD(a, lr=0.1)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="set"):
        optim.SGD({a}, lr=0.1)
    with pytest.raises(TypeError, match="only optimize Tensors"):
        optim.SGD([np.zeros(2)], lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([a * 2], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([a, a], lr=0.1)
    with pytest.raises(ValueError, match="parameter groups"):
        optim.LBFGS([{"params": [a]}, {"params": [gradlab.zeros(1, requires_grad=True)]}])


P = [gradlab.zeros(2, requires_grad=True)]


@pytest.mark.parametrize("make,name", [
    (lambda: optim.SGD(P, lr=-0.1), "lr"),
    (lambda: optim.SGD(P, lr="fast"), "lr"),
    (lambda: optim.SGD(P, momentum=-0.5), "momentum"),
    (lambda: optim.SGD(P, weight_decay=-1e-4), "weight_decay"),
    (lambda: optim.SGD(P, dampening=-1), "dampening"),
    (lambda: optim.SGD(P, nesterov=True), "Nesterov"),
    (lambda: optim.SGD(P, momentum=0.9, nesterov=True, dampening=0.1), "Nesterov"),
    (lambda: optim.SGD(P, maximize="yes"), "maximize"),
    (lambda: optim.Adam(P, betas=(1.0, 0.999)), "beta parameter at index 0"),
    (lambda: optim.Adam(P, betas=(0.9, -0.1)), "beta parameter at index 1"),
    (lambda: optim.Adam(P, betas=0.9), "betas"),
    (lambda: optim.Adam(P, eps=-1e-8), "eps"),
    (lambda: optim.Adam(P, amsgrad=1), "amsgrad"),
    (lambda: optim.Adam(P, differentiable=True), "differentiable"),
    (lambda: optim.AdamW(P, weight_decay=-0.01), "weight_decay"),
    (lambda: optim.NAdam(P, momentum_decay=-1.0), "momentum_decay"),
    (lambda: optim.RMSprop(P, alpha=1.5), "alpha"),
    (lambda: optim.RMSprop(P, centered=None), "centered"),
    (lambda: optim.Adagrad(P, lr_decay=-0.1), "lr_decay"),
    (lambda: optim.Adagrad(P, initial_accumulator_value=-1.0), "initial_accumulator_value"),
    (lambda: optim.Adadelta(P, rho=1.5), "rho"),
    (lambda: optim.LBFGS(P, history_size=0), "history_size"),
    (lambda: optim.LBFGS(P, line_search_fn="armijo"), "line_search_fn"),
    (lambda: optim.LBFGS(P, max_iter=2.5), "max_iter"),
    (lambda: optim.Newton(P, max_params=0), "max_params"),
])
def test_every_hyperparameter_is_validated(make, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        make()


def test_lbfgs_needs_closure() -> None:
    with pytest.raises(RuntimeError, match="closure"):
        optim.LBFGS(P).step()


# ------------------------------------------------------------ param_groups
class _Stub:
    """A stand-in module: named_modules / named_parameters as nn.Module's."""

    def __init__(self, params: dict, children: dict | None = None) -> None:
        self._params, self._children = params, children or {}

    def named_parameters(self, prefix: str = ""):
        for name, p in self._params.items():
            yield prefix + name, p
        for cname, child in self._children.items():
            yield from child.named_parameters(prefix + cname + ".")

    def named_modules(self, prefix: str = ""):
        yield prefix, self
        for cname, child in self._children.items():
            yield from child.named_modules(prefix + cname + ".")


class LayerNorm(_Stub):
    pass


class BatchNorm2d(_Stub):
    pass


def test_param_groups_leaves_biases_and_norms_undecayed() -> None:
    def t():
        return gradlab.zeros(2, requires_grad=True)
    w1, b1, g, beta, w2, shared, bn_w = t(), t(), t(), t(), t(), t(), t()
    model = _Stub({}, {
        "fc1": _Stub({"weight": w1, "bias": b1}),
        "norm": LayerNorm({"weight": g, "bias": beta}),
        "block": _Stub({}, {"conv": _Stub({"weight": w2, "bias_scale": shared}),
                            "bn": BatchNorm2d({"weight": bn_w})}),
        "tied": _Stub({"weight": w1}),  # shared with fc1: listed once
    })
    groups = optim.param_groups(model, weight_decay=0.05)
    decay, keep = groups
    assert decay["weight_decay"] == 0.05 and keep["weight_decay"] == 0.0
    assert [id(p) for p in decay["params"]] == [id(w1), id(w2), id(shared)]
    assert [id(p) for p in keep["params"]] == [id(b1), id(g), id(beta), id(bn_w)]
    opt = optim.AdamW(groups, lr=1e-3)  # usable as given
    assert [grp["weight_decay"] for grp in opt.param_groups] == [0.05, 0.0]
    with pytest.raises(ValueError, match="weight_decay"):
        optim.param_groups(model, -1.0)


def test_param_groups_omits_empty_group() -> None:
    w = gradlab.zeros(2, requires_grad=True)
    groups = optim.param_groups(_Stub({"weight": w}), 0.1)
    assert len(groups) == 1 and groups[0]["params"][0] is w


@pytest.mark.gpu
@pytest.mark.skipif(not gradlab.cuda.is_available(), reason="no GPU (CuPy) available")
@pytest.mark.parametrize("name,kwargs", [("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
                                         ("Adam", {"lr": 0.01, "amsgrad": True}),
                                         ("RMSprop", {"lr": 0.01, "centered": True})])
def test_gpu_step_matches_cpu(name: str, kwargs: dict) -> None:
    rng = np.random.default_rng(0)
    start, grads = rng.standard_normal((6, 5)), rng.standard_normal((3, 6, 5))
    results = []
    for device in ("cpu", "cuda"):
        p = gradlab.tensor(start, device=device, requires_grad=True)
        opt = getattr(optim, name)([p], **kwargs)
        for g in grads:
            p.grad = gradlab.tensor(g, device=device)
            opt.step()
        assert p.device.type == device
        results.append(p.detach().cpu().numpy())
    np.testing.assert_allclose(results[1], results[0], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("layout", ["large", "strided", "float32"])
@pytest.mark.parametrize("name,kwargs", [("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
                                         ("Adam", {"lr": 0.01, "weight_decay": 0.1}),
                                         ("NAdam", {"lr": 0.01}),
                                         ("RMSprop", {"lr": 0.01, "momentum": 0.5}),
                                         ("Adagrad", {"lr": 0.1}), ("Adadelta", {"lr": 1.0})])
def test_blocked_and_fallback_paths_match_torch(layout: str, name: str, kwargs: dict) -> None:
    # "large" spans several BLAS blocks; "strided" takes the NumPy fallback
    rng = np.random.default_rng(0)
    dtype = np.float32 if layout == "float32" else np.float64
    start = rng.standard_normal((130, 90)).astype(dtype)
    grads = rng.standard_normal((5, 130, 90)).astype(dtype)
    data = np.asfortranarray(start) if layout == "strided" else start.copy()
    p = gradlab.Tensor(data, requires_grad=True)
    assert p.array.flags.c_contiguous == (layout != "strided")
    t = torch.tensor(start, requires_grad=True)
    old_default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # NAdam's scalar state in float64, as gradlab's
    try:
        gl_opt, th_opt = getattr(optim, name)([p], **kwargs), getattr(torch.optim, name)([t], **kwargs)
        for g in grads:
            p.grad = gradlab.tensor(g)
            t.grad = torch.tensor(g)
            gl_opt.step()
            th_opt.step()
    finally:
        torch.set_default_dtype(old_default)
    tol = 1e-5 if layout == "float32" else 1e-12
    np.testing.assert_allclose(p.detach().numpy(), t.detach().numpy(), rtol=tol, atol=tol)
