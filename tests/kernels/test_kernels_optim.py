"""Every optimizer kernel against its NumPy reference: float32 and float64,
every variant of each update, gradients in C, Fortran and strided layouts;
and the reference path for arrays a kernel does not take."""

import numpy as np
import pytest

from gradlab.kernels import optim_adam, optim_adaptive, optim_sgd

pytestmark = pytest.mark.usefixtures("compilation")  # serial and parallel compilations

# (module, update, reference, state arrays, keyword arguments); "step" counts from 1
CASES = {
    "sgd": (optim_sgd, "sgd", [None], dict(first=False, lr=0.1, momentum=0.0, dampening=0.0,
                                       nesterov=False, weight_decay=0.0, maximize=False)),
    "sgd-momentum-first": (optim_sgd, "sgd", ["buf"], dict(
        first=True, lr=0.1, momentum=0.9, dampening=0.3, nesterov=False, weight_decay=0.01,
        maximize=False)),
    "sgd-momentum-dampening-wd": (optim_sgd, "sgd", ["buf"], dict(
        first=False, lr=0.1, momentum=0.9, dampening=0.3, nesterov=False, weight_decay=0.01,
        maximize=True)),
    "sgd-nesterov": (optim_sgd, "sgd", ["buf"], dict(
        first=False, lr=0.05, momentum=0.8, dampening=0.0, nesterov=True, weight_decay=0.0,
        maximize=False)),
    "adam": (optim_adam, "adam", ["m", "v", None], dict(
        step=3, lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0,
        decoupled_weight_decay=False, maximize=False)),
    "adam-l2-maximize": (optim_adam, "adam", ["m", "v", None], dict(
        step=1, lr=1e-2, beta1=0.8, beta2=0.99, eps=1e-6, weight_decay=0.1,
        decoupled_weight_decay=False, maximize=True)),
    "adamw-amsgrad": (optim_adam, "adam", ["m", "v", "v"], dict(
        step=5, lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.1,
        decoupled_weight_decay=True, maximize=False)),
    "nadam": (optim_adam, "nadam", ["m", "v"], dict(
        step=2, mu=0.45, mu_next=0.46, mu_product=0.2, lr=2e-3, beta1=0.9, beta2=0.999, eps=1e-8,
        weight_decay=0.0, decoupled_weight_decay=False, maximize=False)),
    "nadamw-maximize": (optim_adam, "nadam", ["m", "v"], dict(
        step=4, mu=0.45, mu_next=0.46, mu_product=0.04, lr=2e-3, beta1=0.9, beta2=0.999,
        eps=1e-8, weight_decay=0.05, decoupled_weight_decay=True, maximize=True)),
    "rmsprop": (optim_adaptive, "rmsprop", ["v", None, None], dict(
        lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, nesterov=False,
        maximize=False)),
    "rmsprop-centered-momentum-wd": (optim_adaptive, "rmsprop", ["v", "small", "buf"], dict(
        lr=1e-2, alpha=0.9, eps=1e-8, weight_decay=0.1, momentum=0.9, nesterov=False,
        maximize=True)),
    "rmsprop-nesterov": (optim_adaptive, "rmsprop", ["v", None, "buf"], dict(
        lr=1e-2, alpha=0.9, eps=1e-8, weight_decay=0.0, momentum=0.9, nesterov=True,
        maximize=False)),
    "adagrad": (optim_adaptive, "adagrad", ["v"], dict(
        step=3, lr=1e-2, lr_decay=0.1, eps=1e-10, weight_decay=0.0, maximize=False)),
    "adagrad-wd-maximize": (optim_adaptive, "adagrad", ["v"], dict(
        step=1, lr=1e-2, lr_decay=0.0, eps=1e-10, weight_decay=0.1, maximize=True)),
    "adadelta": (optim_adaptive, "adadelta", ["v", "v"], dict(
        lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, maximize=False)),
    "adadelta-wd-maximize": (optim_adaptive, "adadelta", ["v", "v"], dict(
        lr=0.5, rho=0.95, eps=1e-6, weight_decay=0.1, maximize=True)),
}
SHAPE = (37, 29)


def _arrays(states, dtype, seed=0):
    """A parameter, a gradient and the state arrays: "buf", "m" any sign,
    "v" positive (second moments), "small" positive but below "v"'s squares
    (a centered RMSprop's average gradient, so that the variance is positive)."""
    rng = np.random.default_rng(seed)
    draw = {"buf": lambda: rng.standard_normal(SHAPE), "m": lambda: 0.1 * rng.standard_normal(SHAPE),
            "v": lambda: rng.uniform(0.5, 2.0, SHAPE), "small": lambda: rng.uniform(-0.1, 0.1, SHAPE)}
    param = rng.standard_normal(SHAPE).astype(dtype)
    grad = rng.standard_normal(SHAPE).astype(dtype)
    return param, grad, [None if s is None else draw[s]().astype(dtype) for s in states]


def _layouts(g):
    wide = np.zeros((g.shape[0], 3 * g.shape[1]), dtype=g.dtype)
    wide[:, ::3] = g
    return {"C": g.copy(), "F": np.asfortranarray(g), "strided": wide[:, ::3],
            "transposed": np.ascontiguousarray(g.T).T}


def _run(fn, param, grad, states, kwargs):
    fn(param, grad, *states, **kwargs)


def _tolerance(dtype):
    # both compute in the array's dtype; NAdam and RMSprop's Nesterov form
    # order their operations differently from the reference
    return dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-14)


SAME_ORDER = sorted(set(CASES) - {"nadam", "nadamw-maximize", "rmsprop-nesterov"})


@pytest.mark.parametrize("case", SAME_ORDER)
def test_a_float32_step_computes_in_float32_as_the_reference_does(case):
    """The update of a float32 parameter is computed in float32, as PyTorch
    computes it (and NumPy's reference, whose Python scalars are weak): the
    same operations in the same order give the same bits. Python's float64
    scalars once promoted the kernels' arithmetic to float64 (a different
    rounding, and 2.4x slower for Adam)."""
    module, name, states, kwargs = CASES[case]
    param, grad, state = _arrays(states, np.float32)
    expected = [param.copy()] + [None if s is None else s.copy() for s in state]
    _run(getattr(module, f"{name}_reference"), expected[0], grad, expected[1:], kwargs)
    got = [param.copy()] + [None if s is None else s.copy() for s in state]
    _run(getattr(module, f"{name}_update"), got[0], grad, got[1:], kwargs)
    for i, (a, b) in enumerate(zip(got, expected)):
        if a is not None:
            np.testing.assert_array_equal(a, b, err_msg=f"array {i}")


@pytest.mark.parametrize("layout", ["C", "F", "strided", "transposed"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", sorted(CASES))
def test_kernel_matches_reference(case, dtype, layout, monkeypatch):
    module, name, states, kwargs = CASES[case]
    reference = getattr(module, f"{name}_reference")
    param, grad, state = _arrays(states, dtype)
    expected = [param.copy()] + [None if s is None else s.copy() for s in state]
    _run(reference, expected[0], grad, expected[1:], kwargs)

    def refuse(*args, **kw):
        raise AssertionError("the reference ran where the kernel should have")

    monkeypatch.setattr(module, f"{name}_reference", refuse)
    grad_in_layout = _layouts(grad)[layout]
    got = [param.copy()] + [None if s is None else s.copy() for s in state]
    _run(getattr(module, f"{name}_update"), got[0], grad_in_layout, got[1:], kwargs)
    np.testing.assert_array_equal(grad_in_layout, grad)  # the gradient is never written
    for i, (a, b) in enumerate(zip(got, expected)):
        if a is not None:
            assert a.dtype == dtype
            np.testing.assert_allclose(a, b, **_tolerance(dtype), err_msg=f"array {i}")
    assert not np.allclose(got[0], param)  # the step moved the parameter


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_layout_of_the_gradient_gives_the_same_bits(case):
    module, name, states, kwargs = CASES[case]
    param, grad, state = _arrays(states, np.float32)
    results = {}
    for layout, g in _layouts(grad).items():
        got = [param.copy()] + [None if s is None else s.copy() for s in state]
        _run(getattr(module, f"{name}_update"), got[0], g, got[1:], kwargs)
        results[layout] = got[0]
    for layout, p in results.items():
        np.testing.assert_array_equal(p, results["C"], err_msg=layout)


@pytest.mark.parametrize("why", ["fortran-param", "strided-state", "float16", "read-only"])
@pytest.mark.parametrize("case", ["adam", "sgd-nesterov", "rmsprop-centered-momentum-wd",
                                  "adadelta"])
def test_arrays_a_kernel_does_not_take_go_to_the_reference(case, why, monkeypatch):
    module, name, states, kwargs = CASES[case]
    dtype = np.float16 if why == "float16" else np.float64
    param, grad, state = _arrays(states, dtype)
    expected = [param.copy()] + [None if s is None else s.copy() for s in state]
    _run(getattr(module, f"{name}_reference"), expected[0], grad, expected[1:], kwargs)

    def refuse(*args, **kw):
        raise AssertionError("the kernel ran on arrays it does not take")

    monkeypatch.setattr(module, f"{name}_kernel", refuse)
    got = [param.copy()] + [None if s is None else s.copy() for s in state]
    if why == "fortran-param":
        got[0] = np.asfortranarray(got[0])
    elif why == "strided-state":
        wide = np.zeros((SHAPE[0], 2 * SHAPE[1]), dtype=dtype)
        wide[:, ::2] = got[1]
        got[1] = wide[:, ::2]
    if why == "read-only":
        with pytest.raises(ValueError, match="read-only"):
            got[0].setflags(write=False)
            _run(getattr(module, f"{name}_update"), got[0], grad, got[1:], kwargs)
        return
    _run(getattr(module, f"{name}_update"), got[0], grad, got[1:], kwargs)
    for a, b in zip(got, expected):
        if a is not None:
            np.testing.assert_array_equal(a, b)


def test_zero_dimensional_and_empty_parameters():
    for shape in [(), (0,), (3, 0)]:
        p = np.full(shape, 2.0)
        optim_sgd.sgd_update(p, np.ones(shape), None, first=False, lr=0.5, momentum=0.0,
                             dampening=0.0, nesterov=False, weight_decay=0.0, maximize=False)
        np.testing.assert_array_equal(p, np.full(shape, 1.5))


OPTIMIZERS = {
    "SGD": (optim_sgd, "sgd", dict(lr=0.1, momentum=0.9, nesterov=True)),
    "Adam": (optim_adam, "adam", dict(amsgrad=True)),
    "AdamW": (optim_adam, "adam", dict()),
    "NAdam": (optim_adam, "nadam", dict()),
    "RMSprop": (optim_adaptive, "rmsprop", dict(centered=True, momentum=0.5)),
    "Adagrad": (optim_adaptive, "adagrad", dict()),
    "Adadelta": (optim_adaptive, "adadelta", dict()),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizers_step_through_the_kernels(name, dtype, monkeypatch):
    import gradlab

    module, update, kwargs = OPTIMIZERS[name]

    def refuse(*args, **kw):
        raise AssertionError("the reference ran where the kernel should have")

    monkeypatch.setattr(module, f"{update}_reference", refuse)
    p = gradlab.nn.Parameter(gradlab.ones(4, 3, dtype=getattr(gradlab, dtype)))
    opt = getattr(gradlab.optim, name)([p], **kwargs)
    for _ in range(2):
        p.grad = gradlab.full((4, 3), 0.5, dtype=getattr(gradlab, dtype))
        opt.step()
    assert p.dtype == getattr(gradlab, dtype)
    assert np.all(p.detach().numpy() < 1.0)  # every update moved the weights down the gradient


def test_each_call_runs_the_compilation_its_size_asks_for(compilation, monkeypatch):
    """The fixture's choice reaches the kernel: only the chosen dispatcher
    compiles or runs (a spy on each records its calls)."""
    calls = []
    kernel = optim_sgd.sgd_kernel
    for name in ("serial", "parallel"):
        real = getattr(kernel, name)
        monkeypatch.setattr(kernel, name, lambda *a, real=real, name=name: (calls.append(name),
                                                                            real(*a)))
    param = np.ones(8)
    optim_sgd.sgd_update(param, np.ones(8), None, first=False, lr=0.5, momentum=0.0,
                         dampening=0.0, nesterov=False, weight_decay=0.0, maximize=False)
    assert calls == [compilation]
    np.testing.assert_array_equal(param, np.full(8, 0.5))
