"""Elementwise ops against PyTorch: forward values and gradients in float64,
with broadcasting in both directions, Python numbers on either side of an
operator, empty and 0-d shapes, and the kinks where a subgradient is chosen."""

import numpy as np
import pytest
import torch

import gradlab
from helpers import check, randn

BROADCAST_PAIRS = [
    ((3, 4), (3, 4)),
    ((3, 1, 5), (4, 1)),
    ((4, 1), (3, 1, 5)),
    ((2, 3), ()),
    ((), (2, 3)),
    ((5,), (2, 1)),
    ((0, 3), (1, 3)),
    ((2, 0), (2, 1)),
    ((), ()),
]

BINARY = {
    "add": (lambda a, b: a + b, lambda a, b: a + b),
    "sub": (lambda a, b: a - b, lambda a, b: a - b),
    "mul": (lambda a, b: a * b, lambda a, b: a * b),
    "div": (lambda a, b: a / b, lambda a, b: a / b),
    "add_fn_alpha": (lambda a, b: gradlab.add(a, b, alpha=2.5), lambda a, b: torch.add(a, b, alpha=2.5)),
    "sub_fn_alpha": (lambda a, b: gradlab.sub(a, b, alpha=-3), lambda a, b: torch.sub(a, b, alpha=-3)),
    "maximum": (gradlab.maximum, torch.maximum),
    "minimum": (gradlab.minimum, torch.minimum),
}


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("shapes", BROADCAST_PAIRS, ids=str)
def test_binary_broadcast(name, shapes):
    gl_fn, th_fn = BINARY[name]
    a = randn(*shapes[0], seed=1)
    b = randn(*shapes[1], seed=2, low=0.5) if name == "div" else randn(*shapes[1], seed=2)
    check(gl_fn, th_fn, a, b)


@pytest.mark.parametrize("shapes", BROADCAST_PAIRS[:6], ids=str)
def test_pow_tensor_tensor(shapes):
    a = randn(*shapes[0], seed=3, low=0.3)
    b = randn(*shapes[1], seed=4)
    check(lambda x, y: x ** y, lambda x, y: x ** y, a, b)
    check(gradlab.pow, torch.pow, a, b)


def test_pow_zero_base_has_finite_gradients():
    a = np.array([0.0, 0.0, 2.0, 0.0])
    b = np.array([2.0, 0.0, 3.0, 1.5])
    check(lambda x, y: x ** y, lambda x, y: x ** y, a, b)


SCALAR_OPS = {
    "t+2": (lambda t: t + 2, lambda t: t + 2),
    "2+t": (lambda t: 2 + t, lambda t: 2 + t),
    "t-1.5": (lambda t: t - 1.5, lambda t: t - 1.5),
    "2-t": (lambda t: 2 - t, lambda t: 2 - t),
    "t*3": (lambda t: t * 3, lambda t: t * 3),
    "0.5*t": (lambda t: 0.5 * t, lambda t: 0.5 * t),
    "t/4": (lambda t: t / 4, lambda t: t / 4),
    "1/t": (lambda t: 1 / t, lambda t: 1 / t),
    "t**2": (lambda t: t ** 2, lambda t: t ** 2),
    "t**3": (lambda t: t ** 3, lambda t: t ** 3),
    "t**0": (lambda t: t ** 0, lambda t: t ** 0),
    "t**1": (lambda t: t ** 1, lambda t: t ** 1),
    "t**-1.5": (lambda t: t ** -1.5, lambda t: t ** -1.5),
    "t**0.5": (lambda t: t ** 0.5, lambda t: t ** 0.5),
    "2**t": (lambda t: 2 ** t, lambda t: 2 ** t),
    "0.5**t": (lambda t: 0.5 ** t, lambda t: 0.5 ** t),
    "-t": (lambda t: -t, lambda t: -t),
    "+t": (lambda t: +t, lambda t: +t),
    "abs(t)": (lambda t: abs(t), lambda t: abs(t)),
    "pow_fn": (lambda t: gradlab.pow(t, 3.0), lambda t: torch.pow(t, 3.0)),
}


@pytest.mark.parametrize("name", SCALAR_OPS)
@pytest.mark.parametrize("shape", [(3, 4), (), (0, 2)], ids=str)
def test_python_number_operands(name, shape):
    gl_fn, th_fn = SCALAR_OPS[name]
    check(gl_fn, th_fn, randn(*shape, seed=5, low=0.2))


@pytest.mark.parametrize("base", [0, 0.0, -2.0, -2, 1, 2.5])
def test_number_to_tensor_power_including_zero_and_negative_bases(base):
    x = np.array([0.0, 1.0, 2.0, -1.0, 3.0])
    check(lambda t: base ** t, lambda t: base ** t, x)
    check(lambda t: gradlab.pow(base, t), lambda t: torch.pow(base, t), x)


def test_numpy_array_on_the_left():
    m = randn(3, 4, seed=6)
    x = randn(3, 4, seed=7)
    check(lambda t: m + t, lambda t: torch.from_numpy(m) + t, x)
    check(lambda t: m - t, lambda t: torch.from_numpy(m) - t, x)
    check(lambda t: m * t, lambda t: torch.from_numpy(m) * t, x)
    check(lambda t: m @ t.T, lambda t: torch.from_numpy(m) @ t.T, x)


def test_maximum_minimum_ties_split_the_gradient():
    a = np.array([1.0, 2.0, 3.0, -1.0])
    b = np.array([1.0, 0.0, 3.0, 5.0])
    check(gradlab.maximum, torch.maximum, a, b)
    check(gradlab.minimum, torch.minimum, a, b)
    check(lambda x, y: x.max(y), lambda x, y: x.max(y), a, b)


def test_maximum_minimum_sign_abs_with_nan():
    # nan has no order: maximum and minimum pass the whole gradient to both inputs
    a = np.array([1.0, np.nan, 3.0, 2.0, np.nan])
    b = np.array([np.nan, np.nan, 3.0, 1.0, 0.0])
    check(gradlab.maximum, torch.maximum, a, b)
    check(gradlab.minimum, torch.minimum, a, b)
    check(gradlab.sign, torch.sign, a)
    check(gradlab.abs, torch.abs, a)


WHERE_SHAPES = [
    ((3, 4), (3, 4), (3, 4)), ((3, 1), (1, 4), (3, 4)), ((2, 3), (3,), ()), ((0, 2), (0, 2), (2,)),
]


@pytest.mark.parametrize("shapes", WHERE_SHAPES, ids=str)
def test_where(shapes):
    cs, xs, ys = shapes
    cond = randn(*cs, seed=8) > 0
    check(lambda x, y: gradlab.where(gradlab.tensor(cond), x, y),
          lambda x, y: torch.where(torch.tensor(cond), x, y),
          randn(*xs, seed=9), randn(*ys, seed=10))


def test_where_with_number_operands():
    cond = randn(3, 4, seed=11) > 0
    x = randn(3, 4, seed=12)
    check(lambda t: gradlab.where(gradlab.tensor(cond), t, 0.0),
          lambda t: torch.where(torch.tensor(cond), t, 0.0), x)
    check(lambda t: gradlab.where(gradlab.tensor(cond), -1.0, t),
          lambda t: torch.where(torch.tensor(cond), -1.0, t), x)


CLAMP_X = np.array([-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0])


@pytest.mark.parametrize("lo,hi", [(-1.0, 1.0), (None, 0.5), (-0.5, None), (0.0, 0.0), (1, 2)])
def test_clamp_scalar_bounds_including_at_the_bounds(lo, hi):
    check(lambda t: t.clamp(lo, hi), lambda t: t.clamp(lo, hi), CLAMP_X)
    check(lambda t: gradlab.clamp(t, min=lo, max=hi), lambda t: torch.clamp(t, min=lo, max=hi), CLAMP_X)
    check(lambda t: gradlab.clip(t, lo, hi), lambda t: torch.clip(t, lo, hi), CLAMP_X)


def test_clamp_tensor_bounds_including_at_the_bounds():
    x = np.array([[-2.0, -1.0, 0.0, 1.0, 3.0], [0.2, 0.3, -0.3, 0.9, 1.0]])
    lo = np.array([-1.0, -1.0, 0.0, 0.5, 1.0])
    hi = np.array([[1.0], [0.3]])
    check(lambda t, a, b: t.clamp(a, b), lambda t, a, b: t.clamp(a, b), x, lo, hi)
    check(lambda t, a: t.clamp(min=a), lambda t, a: t.clamp(min=a), x, lo)
    check(lambda t, b: t.clamp(max=b), lambda t, b: t.clamp(max=b), x, hi)


UNARY = {
    "exp": (gradlab.exp, torch.exp, None),
    "log": (gradlab.log, torch.log, 0.1),
    "log1p": (gradlab.log1p, torch.log1p, -0.9 + 1e-3),
    "expm1": (gradlab.expm1, torch.expm1, None),
    "sqrt": (gradlab.sqrt, torch.sqrt, 0.1),
    "rsqrt": (gradlab.rsqrt, torch.rsqrt, 0.1),
    "square": (gradlab.square, torch.square, None),
    "reciprocal": (gradlab.reciprocal, torch.reciprocal, 0.2),
    "abs": (gradlab.abs, torch.abs, None),
    "sign": (gradlab.sign, torch.sign, None),
    "neg": (gradlab.neg, torch.neg, None),
    "sin": (gradlab.sin, torch.sin, None),
    "cos": (gradlab.cos, torch.cos, None),
    "tanh": (gradlab.tanh, torch.tanh, None),
    "sigmoid": (gradlab.sigmoid, torch.sigmoid, None),
    "relu": (gradlab.relu, torch.relu, None),
    "erf": (gradlab.erf, torch.erf, None),
    "floor": (gradlab.floor, torch.floor, None),
    "ceil": (gradlab.ceil, torch.ceil, None),
    "round": (gradlab.round, torch.round, None),
    "trunc": (gradlab.trunc, torch.trunc, None),
    "clone": (gradlab.clone, torch.clone, None),
}


@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("shape", [(3, 4), (), (0, 3), (2, 1, 3)], ids=str)
def test_unary_functions_and_methods(name, shape):
    gl_fn, th_fn, low = UNARY[name]
    x = randn(*shape, seed=13, low=low)
    check(gl_fn, th_fn, x)
    check(lambda t: getattr(t, name)(), lambda t: getattr(t, name)(), x)


@pytest.mark.parametrize("name", ["abs", "sign", "relu", "sqrt", "floor", "round"])
def test_unary_at_zero_and_kinks(name):
    gl_fn, th_fn, _ = UNARY[name]
    x = np.array([0.0, -0.0, 1.0, -1.0, 2.5, -2.5, 0.5, 1.5])
    if name == "sqrt":
        x = np.array([0.0, 1.0, 4.0])
    check(gl_fn, th_fn, x)


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "exp", "expm1", "erf"])
def test_unary_at_extreme_values(name):
    gl_fn, th_fn, _ = UNARY[name]
    x = np.array([-1000.0, -40.0, -1e-8, 0.0, 1e-8, 40.0, 1000.0])
    if name in ("exp", "expm1"):
        x = np.array([-1000.0, -40.0, -1e-8, 0.0, 1e-8, 40.0, 700.0])
    check(gl_fn, th_fn, x)


def test_floor_ceil_round_trunc_have_zero_gradient():
    x = gradlab.tensor([-1.7, -0.5, 0.5, 1.5, 2.3], dtype=gradlab.float64, requires_grad=True)
    (x.floor() + x.ceil() + x.round() + x.trunc()).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros(5))
    # round half to even, as PyTorch
    np.testing.assert_array_equal(x.detach().round().numpy(), [-2.0, -0.0, 0.0, 2.0, 2.0])


@pytest.mark.parametrize("mode", ["floor", "trunc"])
def test_div_rounding_mode(mode):
    a, b = randn(3, 4, seed=14) * 5, randn(3, 4, seed=15, low=0.5)
    check(lambda x, y: gradlab.div(x, y, rounding_mode=mode),
          lambda x, y: torch.div(x, y, rounding_mode=mode), a, b)
    ia = np.array([7, -7, 6, -6, 0])
    ib = np.array([2, 2, -4, 4, 3])
    check(lambda x, y: gradlab.div(x, y, rounding_mode=mode),
          lambda x, y: torch.div(x, y, rounding_mode=mode), ia, ib, grad=False)
    check(lambda x, y: x // y, lambda x, y: x // y, ia, ib, grad=False)


@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "sin", "tanh", "sigmoid", "relu", "abs", "erf"])
def test_unary_float32_stays_float32(name):
    gl_fn, th_fn, low = UNARY[name]
    x = randn(2, 3, seed=16, low=low).astype(np.float32)
    check(gl_fn, th_fn, x, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("name", ["add", "mul", "div", "maximum"])
def test_binary_float32_stays_float32(name):
    gl_fn, th_fn = BINARY[name]
    a = randn(3, 1, 5, seed=17).astype(np.float32)
    b = randn(4, 1, seed=18, low=0.5).astype(np.float32)
    check(gl_fn, th_fn, a, b, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "multiply", "subtract", "divide",
                                  "true_divide"])
def test_function_and_method_aliases(name):
    a, b = randn(3, 1, seed=19), randn(4, seed=20, low=0.5)
    check(getattr(gradlab, name, None) or getattr(gradlab.ops, name), getattr(torch, name), a, b)
    check(lambda x, y: getattr(x, name)(y), lambda x, y: getattr(x, name)(y), a, b)


def test_negative_and_concatenate_aliases():
    a = randn(2, 3, seed=21)
    check(gradlab.ops.negative, torch.negative, a)
    check(lambda t: t.negative(), lambda t: t.negative(), a)
    check(lambda t: gradlab.ops.concatenate([t, t], 1), lambda t: torch.concatenate([t, t], 1), a)


def test_casts_between_float_dtypes_are_differentiable():
    x = randn(2, 3, seed=22)
    check(lambda t: (t.to(gradlab.float32) * 3).to(gradlab.float64),
          lambda t: (t.to(torch.float32) * 3).to(torch.float64), x, atol=1e-6, rtol=1e-6)
    check(lambda t: t.float().double() ** 2, lambda t: t.float().double() ** 2, x, atol=1e-6, rtol=1e-6)
    check(lambda t: t.to("float32"), lambda t: t.to(torch.float32), x, atol=1e-6, rtol=1e-6)
    check(lambda t: t.half(), lambda t: t.half(), x, atol=1e-3, rtol=1e-3)


@pytest.mark.parametrize("target", ["long", "int", "bool"])
def test_casts_to_integer_and_bool_truncate_like_torch(target):
    x = np.array([-2.7, -0.5, 0.0, 0.4, 1.5, 3.9])
    check(lambda t: getattr(t, target)(), lambda t: getattr(t, target)(), x, grad=False)
    out = getattr(gradlab.tensor(x, requires_grad=True), target)()
    assert not out.requires_grad
