"""Result dtypes against PyTorch's type promotion, and the comparison and
logical ops (values and dtypes; they carry no gradient)."""

import numpy as np
import pytest
import torch

import gradlab
from helpers import assert_close, check, randn


def _pair(array):
    return gradlab.tensor(array), torch.tensor(array)


def _same(g, t):
    assert str(g.dtype) == str(t.dtype).removeprefix("torch."), f"{g.dtype} != {t.dtype}"
    assert_close(g, t, atol=1e-6, rtol=1e-6)


ARRAYS = {
    "f32": np.array([[1.5, -2.0, 3.0]], dtype=np.float32),
    "f64": np.array([[0.5], [2.0]], dtype=np.float64),
    "i64": np.array([[3, -4, 5]], dtype=np.int64),
    "i32": np.array([[2], [7]], dtype=np.int32),
    "u8": np.array([[1, 2, 3]], dtype=np.uint8),
    "bool": np.array([[True, False, True]]),
    "f64_0d": np.array(2.5, dtype=np.float64),
    "f32_0d": np.array(-1.5, dtype=np.float32),
    "i64_0d": np.array(3, dtype=np.int64),
    "i32_0d": np.array(2, dtype=np.int32),
}

OPS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "maximum": lambda a, b: a.maximum(b),
    "eq": lambda a, b: a == b,
    "lt": lambda a, b: a < b,
}


PAIRS = [
    ("i64", "f32"), ("f32", "i64"), ("f32", "f64_0d"), ("f64_0d", "f32"), ("i64", "i64"),
    ("i64", "i32"), ("i32", "i64_0d"), ("i64", "i32_0d"), ("u8", "i64"), ("bool", "f32"),
    ("bool", "i32"), ("f32", "f64"), ("f32_0d", "f64_0d"), ("i64_0d", "f32_0d"), ("u8", "bool"),
]


# PyTorch refuses to subtract bools (tested in test_bool_subtraction_is_refused)
@pytest.mark.parametrize("op,left,right", [
    (op, left, right) for op in OPS for left, right in PAIRS if not (op == "sub" and "bool" in (left, right))
], ids=str)
def test_tensor_tensor_promotion(op, left, right):
    fn = OPS[op]
    gl_a, th_a = _pair(ARRAYS[left])
    gl_b, th_b = _pair(ARRAYS[right])
    _same(fn(gl_a, gl_b), fn(th_a, th_b))


def test_bool_subtraction_is_refused():
    for left, right in [("bool", "f32"), ("i32", "bool"), ("bool", "bool")]:
        for lib in (gradlab, torch):
            a, b = lib.tensor(ARRAYS[left]), lib.tensor(ARRAYS[right])
            with pytest.raises(RuntimeError, match="bool"):
                a - b
    for lib in (gradlab, torch):
        with pytest.raises(RuntimeError, match="bool"):
            lib.tensor([1.0]) - True


@pytest.mark.parametrize("op,number", [
    (op, number) for op in ["add", "sub", "mul", "div"] for number in [2, 2.5, -3, True]
    if not (op == "sub" and number is True)
], ids=str)
@pytest.mark.parametrize("left", ["f32", "f64", "i64", "i32", "u8", "f32_0d", "i64_0d"])
def test_python_number_promotion(op, number, left):
    fn = OPS[op]
    gl_a, th_a = _pair(ARRAYS[left])
    _same(fn(gl_a, number), fn(th_a, number))
    _same(fn(number, gl_a), fn(number, th_a))


def test_named_promotion_cases_from_the_issue():
    i64 = gradlab.tensor([1, 2, 3])
    f32 = gradlab.tensor([0.5, 1.5, 2.5])
    assert (i64 + f32).dtype == gradlab.float32
    f64_0d = gradlab.tensor(2.0, dtype=gradlab.float64)
    assert (f32 * f64_0d).dtype == gradlab.float32
    assert (i64 / gradlab.tensor([2, 4, 8])).dtype == gradlab.float32
    np.testing.assert_allclose((i64 / gradlab.tensor([2, 4, 8])).numpy(), [0.5, 0.5, 0.375])
    assert (i64 * 1.5).dtype == gradlab.float32
    assert (1.5 + i64).dtype == gradlab.float32


def test_float64_default_dtype_changes_python_float_with_int_tensor():
    gradlab.set_default_dtype(gradlab.float64)
    torch.set_default_dtype(torch.float64)
    try:
        _same(gradlab.tensor([1, 2]) * 0.5, torch.tensor([1, 2]) * 0.5)
        _same(gradlab.tensor([1, 2]) / gradlab.tensor([3, 3]), torch.tensor([1, 2]) / torch.tensor([3, 3]))
    finally:
        torch.set_default_dtype(torch.float32)


@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "erf",
                                  "log1p", "expm1", "rsqrt", "reciprocal"])
def test_float_functions_of_integer_tensors_give_default_float(name):
    x = np.array([1, 2, 3], dtype=np.int64)
    check(getattr(gradlab, name), getattr(torch, name), x, grad=False, atol=1e-6, rtol=1e-6)


@pytest.mark.parametrize("name", ["abs", "neg", "sign", "relu", "square"])
def test_integer_preserving_functions(name):
    x = np.array([-2, 0, 3], dtype=np.int64)
    check(getattr(gradlab, name), getattr(torch, name), x, grad=False)


def test_sign_of_bool_is_the_identity():
    check(gradlab.sign, torch.sign, np.array([True, False]), grad=False)


@pytest.mark.parametrize("exponent", [2, 0, 3])
def test_integer_power(exponent):
    x = np.array([-2, 0, 3], dtype=np.int64)
    check(lambda t: t ** exponent, lambda t: t ** exponent, x, grad=False)
    check(lambda t: 2 ** t, lambda t: 2 ** t, np.array([0, 1, 5]), grad=False)
    check(lambda t: t ** 0.5, lambda t: t ** 0.5, np.array([0, 1, 4]), grad=False, atol=1e-6)


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "softmax", "log_softmax", "logsumexp"])
def test_reductions_keep_float32(name):
    x = randn(3, 4, seed=1).astype(np.float32)
    kwargs = {"dim": 1}
    check(lambda t: getattr(gradlab, name)(t, **kwargs), lambda t: getattr(torch, name)(t, **kwargs),
          x, atol=1e-5, rtol=1e-5)


def test_clamp_of_integer_tensor():
    x = np.array([1, 2, 3, 7])
    check(lambda t: t.clamp(0.5, 2.5), lambda t: t.clamp(0.5, 2.5), x, grad=False)
    check(lambda t: t.clamp(2, 5), lambda t: t.clamp(2, 5), x, grad=False)
    check(lambda t: t.clamp(max=2), lambda t: t.clamp(max=2), x, grad=False)


@pytest.mark.parametrize("name", ["sigmoid", "erf", "exp", "tanh", "relu", "abs"])
def test_float16_stays_float16(name):
    x = np.array([-2.0, -0.5, 0.25, 1.5], dtype=np.float16)
    check(getattr(gradlab, name), getattr(torch, name), x, grad=False, atol=2e-3, rtol=2e-3)


def test_round_with_decimals():
    x = np.array([1.2345, -2.5551, 0.125, 123.456])
    for decimals in (0, 1, 2, -1):
        check(lambda t, d=decimals: t.round(decimals=d), lambda t, d=decimals: t.round(decimals=d), x)


def test_sum_of_integers_and_bools_is_int64():
    check(lambda t: t.sum(), lambda t: t.sum(), np.array([1, 2, 3], dtype=np.int32), grad=False)
    check(lambda t: t.sum(0), lambda t: t.sum(0), np.array([[True, False], [True, True]]), grad=False)


def test_float32_matmul_and_indexing_keep_float32():
    a = randn(3, 4, seed=2).astype(np.float32)
    b = randn(4, 2, seed=3).astype(np.float32)
    check(lambda x, y: x @ y, lambda x, y: x @ y, a, b, atol=1e-5, rtol=1e-5)
    check(lambda x: x[[0, 2], 1:], lambda x: x[[0, 2], 1:], a, atol=1e-6)


COMPARE = ["eq", "ne", "lt", "le", "gt", "ge"]


@pytest.mark.parametrize("name", COMPARE)
def test_comparisons_with_broadcasting_and_numbers(name):
    a = np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]])
    b = np.array([[2.0], [2.0]])
    check(getattr(gradlab, name), getattr(torch, name), a, b, grad=False)
    check(lambda x: getattr(x, name)(2.0), lambda x: getattr(x, name)(2.0), a, grad=False)
    check(lambda x: getattr(x, name)(2), lambda x: getattr(x, name)(2), a.astype(np.int64), grad=False)


@pytest.mark.parametrize("op", ["==", "!=", "<", "<=", ">", ">="])
def test_comparison_operators_including_reflected(op):
    a = np.array([1.0, 2.0, 3.0])
    fwd = eval(f"lambda x: x {op} 2.0")  # noqa: S307 - fixed operator strings
    rev = eval(f"lambda x: 2.0 {op} x")  # noqa: S307
    check(fwd, fwd, a, grad=False)
    check(rev, rev, a, grad=False)


def test_comparison_outputs_do_not_require_grad():
    x = gradlab.tensor([1.0, -1.0], requires_grad=True)
    assert not (x > 0).requires_grad
    assert (x > 0).dtype == gradlab.bool


LOGICAL = ["logical_and", "logical_or", "logical_xor"]


@pytest.mark.parametrize("name", LOGICAL)
def test_logical_ops(name):
    a = np.array([[True, False, True, False]])
    b = np.array([[True], [False]])
    check(getattr(gradlab, name), getattr(torch, name), a, b, grad=False)
    x = np.array([0.0, 1.5, -2.0, 0.0])
    y = np.array([1.0, 0.0, 3.0, 0.0])
    check(getattr(gradlab, name), getattr(torch, name), x, y, grad=False)


def test_logical_not_and_bitwise():
    a = np.array([True, False, True])
    b = np.array([False, False, True])
    check(gradlab.logical_not, torch.logical_not, np.array([0.0, 2.0, -1.0]), grad=False)
    check(lambda x, y: x & y, lambda x, y: x & y, a, b, grad=False)
    check(lambda x, y: x | y, lambda x, y: x | y, a, b, grad=False)
    check(lambda x, y: x ^ y, lambda x, y: x ^ y, a, b, grad=False)
    check(lambda x: ~x, lambda x: ~x, a, grad=False)
    check(lambda x: ~x, lambda x: ~x, np.array([0, 5, -3]), grad=False)
    i, j = np.array([12, 10, 7]), np.array([10, 6, 1])
    check(lambda x, y: x & y, lambda x, y: x & y, i, j, grad=False)
    check(lambda x, y: x | y, lambda x, y: x | y, i, j, grad=False)


def test_nan_inf_predicates_and_all_any():
    x = np.array([[0.0, np.nan, np.inf], [-np.inf, 1.0, 2.0]])
    for name in ["isnan", "isinf", "isfinite"]:
        check(getattr(gradlab, name), getattr(torch, name), x, grad=False)
    m = np.array([[True, False, True], [True, True, True]])
    check(lambda t: t.all(), lambda t: t.all(), m, grad=False)
    check(lambda t: t.any(), lambda t: t.any(), m, grad=False)
    check(lambda t: t.all(dim=1), lambda t: t.all(dim=1), m, grad=False)
    check(lambda t: t.any(dim=-2, keepdim=True), lambda t: t.any(dim=-2, keepdim=True), m, grad=False)


def test_isclose_allclose_equal():
    a = np.array([1.0, 1.0 + 1e-9, 2.0, np.nan])
    b = np.array([1.0, 1.0, 2.1, np.nan])
    check(gradlab.isclose, torch.isclose, a, b, grad=False)
    check(lambda x, y: gradlab.isclose(x, y, equal_nan=True),
          lambda x, y: torch.isclose(x, y, equal_nan=True), a, b, grad=False)
    ga, gb = gradlab.tensor(a[:2]), gradlab.tensor(b[:2])
    assert gradlab.allclose(ga, gb) is True
    assert gradlab.equal(ga, ga) is True
    assert gradlab.equal(ga, gb) is False
    assert gradlab.equal(ga, gradlab.tensor(a[:1])) is False
