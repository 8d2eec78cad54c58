"""PyTorch's in-place Tensor methods in gradlab, against torch in float64:
values (plain, and on leaves under no_grad as optimizers use them),
gradients taken through the in-place write on a non-leaf, the errors PyTorch
raises (overwritten values backward needs, integer results of float ops),
the shape-changing ones, the random fills and the writes by index; and the
exact list of PyTorch's in-place methods gradlab leaves out."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gradlab

RNG = np.random.default_rng(3)
X = RNG.uniform(-2, 2, (3, 4))
Y = RNG.uniform(-2, 2, (3, 4))
U = RNG.uniform(0.1, 0.9, (3, 4))        # inside every domain (log, sqrt, logit)
POS = RNG.uniform(0.5, 2.0, (3, 4))
DIVISOR = np.where(RNG.random(4) < 0.5, -1.0, 1.0) * RNG.uniform(0.3, 1.5, 4)
XZ = np.where(RNG.random((3, 4)) < 0.3, 0.0, X)
SPECIAL = np.array([1.5, np.nan, np.inf, -np.inf, -0.25, 3.0])

# name of the method: (self, positional arguments, keyword arguments); arrays
# become float64 tensors (requiring grad in the gradient test)
CASES = {
    "abs_": (X, (), {}), "absolute_": (X, (), {}), "neg_": (X, (), {}),
    "negative_": (X, (), {}), "sqrt_": (U, (), {}), "rsqrt_": (U, (), {}),
    "exp_": (X, (), {}), "expm1_": (X, (), {}), "log_": (U, (), {}), "log1p_": (U, (), {}),
    "log2_": (U, (), {}), "log10_": (U, (), {}), "sign_": (X, (), {}),
    "reciprocal_": (POS, (), {}), "square_": (X, (), {}), "relu_": (X, (), {}),
    "sigmoid_": (X, (), {}), "tanh_": (X, (), {}), "floor_": (X * 3, (), {}),
    "ceil_": (X * 3, (), {}), "round_": (X * 3, (), {}), "trunc_": (X * 3, (), {}),
    "fix_": (X * 3, (), {}), "sin_": (X, (), {}), "cos_": (X, (), {}), "erf_": (X, (), {}),
    "frac_": (X * 3.3, (), {}), "logit_": (U, (), {}), "nan_to_num_": (SPECIAL, (), {}),
    "pow_": (U, (2.5,), {}), "pow_tensor": (U, (POS,), {}), "multiply_": (X, (Y,), {}),
    "divide_": (X, (POS,), {}), "divide_floor": (X, (POS,), {"rounding_mode": "floor"}),
    "true_divide_": (X, (POS,), {}), "subtract_": (X, (Y,), {"alpha": 2}),
    "fmod_": (X * 3, (DIVISOR,), {}), "remainder_": (X * 3, (DIVISOR,), {}),
    "copysign_": (X, (Y,), {}), "hypot_": (X, (Y,), {}), "xlogy_": (XZ, (POS,), {}),
    "clamp_min_": (X, (0.1,), {}), "clamp_max_": (X, (0.1,), {}),
    "clip_": (X, (-0.5, 0.5), {}), "lerp_": (X, (Y, 0.3), {}), "lerp_tensor": (X, (Y, U), {}),
    "addcmul_": (X, (Y, POS), {"value": 0.5}), "addcdiv_": (X, (Y, POS), {"value": -0.3}),
    "addmm_": (X, (RNG.standard_normal((3, 2)), RNG.standard_normal((2, 4))),
               {"beta": 0.5, "alpha": 2.0}),
    "baddbmm_": (RNG.standard_normal((2, 3, 4)),
                 (RNG.standard_normal((2, 3, 2)), RNG.standard_normal((2, 2, 4))), {}),
    "cumprod_": (X, (1,), {}),
    "lt_": (X, (Y,), {}), "le_": (X, (0.2,), {}), "gt_": (X, (Y,), {}), "ge_": (X, (Y,), {}),
    "eq_": (np.round(X), (np.round(Y),), {}), "ne_": (np.round(X), (0.0,), {}),
    "less_": (X, (Y,), {}), "less_equal_": (X, (Y,), {}), "greater_": (X, (Y,), {}),
    "greater_equal_": (X, (Y,), {}), "not_equal_": (np.round(X), (np.round(Y),), {}),
    "logical_and_": (np.round(X), (np.round(Y),), {}),
    "logical_or_": (np.round(X), (np.round(Y),), {}),
    "logical_xor_": (np.round(X), (np.round(Y),), {}), "logical_not_": (np.round(X), (), {}),
}
# the results with no derivative: the gradient through them is zero. For the
# logical ops PyTorch leaves the tensor's old history in place (the gradient
# flows through as if nothing was written); gradlab gives them zero as well,
# the derivative of a piecewise-constant function.
NOT_DIFFERENTIABLE = {"lt_", "le_", "gt_", "ge_", "eq_", "ne_", "less_", "less_equal_",
                      "greater_", "greater_equal_", "not_equal_", "logical_and_",
                      "logical_or_", "logical_xor_", "logical_not_"}
TORCH_KEEPS_HISTORY = {"logical_and_", "logical_or_", "logical_xor_", "logical_not_"}


def _method(case: str) -> str:
    return case if case.endswith("_") else case.rsplit("_", 1)[0] + "_"


def _tensors(lib, case, requires_grad=False):
    x, args, kwargs = CASES[case]

    def conv(v):
        if isinstance(v, np.ndarray):
            return lib.tensor(v, dtype=lib.float64, requires_grad=requires_grad)
        return v

    return conv(x), [conv(a) for a in args], {k: conv(v) for k, v in kwargs.items()}


@pytest.mark.parametrize("case", sorted(CASES))
def test_values_match_torch_and_self_is_returned(case):
    results = []
    for lib in (torch, gradlab):
        x, args, kwargs = _tensors(lib, case)
        out = getattr(x, _method(case))(*args, **kwargs)
        assert out is x
        results.append(x.numpy())
    np.testing.assert_allclose(results[1], results[0], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", sorted(CASES))
def test_leaf_written_under_no_grad_stays_a_leaf(case):
    results = []
    for lib in (torch, gradlab):
        x, args, kwargs = _tensors(lib, case, requires_grad=True)
        with lib.no_grad():
            getattr(x, _method(case))(*args, **kwargs)
        assert x.is_leaf and x.requires_grad and x._version == 1
        results.append(x.detach().numpy())
    np.testing.assert_allclose(results[1], results[0], rtol=1e-12, atol=1e-12)


def _grads_through(lib, case):
    """Gradients of sum(upstream * y) where y = 1.5 x, then y.NAME_(...):
    the gradient flows through the in-place write to x and the arguments."""
    x, args, kwargs = _tensors(lib, case, requires_grad=True)
    y = x * 1.5
    getattr(y, _method(case))(*args, **kwargs)
    upstream = lib.tensor(np.random.default_rng(1).standard_normal(tuple(y.shape)))
    leaves = [x] + [a for a in list(args) + list(kwargs.values()) if isinstance(a, lib.Tensor)]
    grads = lib.autograd.grad(y, leaves, upstream, allow_unused=True)
    return y.detach().numpy(), [None if g is None else g.numpy() for g in grads]


@pytest.mark.parametrize("case", sorted(CASES))
def test_gradient_through_the_in_place_write_matches_torch(case):
    expected, expected_grads = _grads_through(torch, case)
    actual, actual_grads = _grads_through(gradlab, case)
    np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=1e-12)
    for g, e in zip(actual_grads, expected_grads):
        if case in NOT_DIFFERENTIABLE:  # torch: None or zeros, gradlab: zeros
            assert g is None or not g.any()
            assert e is None or not e.any() or case in TORCH_KEEPS_HISTORY
            continue
        assert (g is None) == (e is None)
        if e is not None:
            np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-12)


def test_comparison_into_a_tensor_written_by_an_argument_that_requires_grad():
    for lib in (torch, gradlab):
        a, b = lib.zeros(3, dtype=lib.float64), lib.ones(3, dtype=lib.float64, requires_grad=True)
        a.lt_(b)
        assert a.requires_grad and a.grad_fn is not None
        a.sum().backward()
        assert not b.grad.any()


@pytest.mark.parametrize("dtype", ["int64", "bool"])
def test_integer_and_bool_in_place_ops(dtype):
    a = RNG.integers(0, 4, (3, 4)).astype(dtype)
    b = RNG.integers(0, 4, (3, 4)).astype(dtype)
    for name in ("bitwise_and_", "bitwise_or_", "bitwise_xor_", "logical_and_", "lt_", "eq_"):
        got, want = gradlab.tensor(a), torch.tensor(a)
        getattr(got, name)(gradlab.tensor(b))
        getattr(want, name)(torch.tensor(b))
        np.testing.assert_array_equal(got.numpy(), want.numpy(), err_msg=name)
    got, want = gradlab.tensor(a), torch.tensor(a)
    got.bitwise_not_()
    want.bitwise_not_()
    np.testing.assert_array_equal(got.numpy(), want.numpy())


# ------------------------------------------------ optimizer from scratch
def _adam_from_scratch(lib, steps=3, lr=0.1, betas=(0.9, 0.999), eps=1e-8):
    """Adam as users write it: every update an in-place op under no_grad."""
    rng = np.random.default_rng(0)
    p = lib.tensor(rng.standard_normal(5), requires_grad=True)
    target = lib.tensor(rng.standard_normal(5))
    m, v = lib.zeros_like(p), lib.zeros_like(p)
    for step in range(1, steps + 1):
        p.grad = None
        ((p - target) ** 2).sum().backward()
        with lib.no_grad():
            m.lerp_(p.grad, 1 - betas[0])
            v.mul_(betas[1]).addcmul_(p.grad, p.grad, value=1 - betas[1])
            denom = (v / (1 - betas[1] ** step)).sqrt_().add_(eps)
            p.addcdiv_(m, denom, value=-lr / (1 - betas[0] ** step))
            p.clamp_min_(-1.0).clamp_max_(1.0)
    return p.detach().numpy()


def test_adam_written_with_in_place_ops_matches_torch():
    np.testing.assert_allclose(_adam_from_scratch(gradlab), _adam_from_scratch(torch),
                               rtol=1e-12, atol=1e-12)


# ------------------------------------------------------------- errors
def _raises(program):
    out = []
    for lib in (torch, gradlab):
        x = lib.tensor(U, dtype=lib.float64, requires_grad=True)
        with pytest.raises(RuntimeError) as err:
            program(lib, x)
        out.append(str(err.value))
    return out


def test_backward_needing_an_overwritten_value_raises_in_both():
    def program(lib, x):
        y = x * 2
        z = y.sin()          # SinBackward reads y
        y.exp_()
        z.sum().backward()

    for message in _raises(program):
        assert "modified by an inplace operation" in message


def test_addcmul_overwriting_a_value_mul_saved_raises_in_both():
    def program(lib, x):
        y = x + 1
        z = y * y
        y.addcmul_(x, x)
        z.sum().backward()

    for message in _raises(program):
        assert "modified by an inplace operation" in message


@pytest.mark.parametrize("name", ["sqrt_", "lerp_", "unsqueeze_"])
def test_leaf_that_requires_grad_is_refused_in_grad_mode(name):
    args = {"lerp_": (lambda lib: (lib.zeros(3, 4, dtype=lib.float64), 0.5)),
            "unsqueeze_": (lambda lib: (0,))}.get(name, lambda lib: ())
    for message in _raises(lambda lib, x: getattr(x, name)(*args(lib))):
        assert "a leaf Variable that requires grad is being used in an in-place operation" \
            in message


@pytest.mark.parametrize("name, args", [
    ("sqrt_", ()), ("exp_", ()), ("sigmoid_", ()), ("rsqrt_", ()), ("reciprocal_", ()),
    ("logit_", ()), ("divide_", (2,)), ("true_divide_", (2,)), ("pow_", (0.5,)),
    ("multiply_", (0.5,)), ("addcdiv_", (lambda L: L.ones(3), lambda L: L.ones(3))),
    ("add_", (0.5,)), ("sub_", (lambda L: L.ones(3),)), ("mul_", (1.5,)),
])
def test_float_result_into_an_integer_tensor_raises_like_torch(name, args):
    for lib in (torch, gradlab):
        x = lib.arange(3)
        values = [a(lib) if callable(a) else a for a in args]
        with pytest.raises(RuntimeError,
                           match="result type Float can't be cast to the desired output type Long"):
            getattr(x, name)(*values)
        assert x.tolist() == [0, 1, 2]


def test_integer_result_into_a_bool_tensor_raises_like_torch():
    for lib in (torch, gradlab):
        with pytest.raises(RuntimeError,
                           match="result type Long can't be cast to the desired output type Bool"):
            lib.tensor([True, False]).multiply_(2)


def test_result_of_a_larger_shape_is_refused():
    for lib in (torch, gradlab):
        with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
            lib.ones(3).hypot_(lib.ones(2, 3))


# -------------------------------------------------------- shape in place
SHAPE_CASES = [("unsqueeze_", (0,)), ("unsqueeze_", (-1,)), ("squeeze_", ()), ("squeeze_", (1,)),
               ("t_", ()), ("transpose_", (0, 2)), ("swapaxes_", (1, 2)), ("swapdims_", (0, 1))]


def _shape_array(name):
    return RNG.standard_normal((2, 3) if name == "t_" else (2, 1, 3))


@pytest.mark.parametrize("name, args", SHAPE_CASES)
def test_shape_in_place_changes_the_tensor_itself(name, args):
    a = _shape_array(name)
    for lib in (torch, gradlab):
        x = lib.tensor(a)
        out = getattr(x, name)(*args)
        assert out is x
        expected = getattr(torch.tensor(a), name[:-1])(*args)
        assert tuple(x.shape) == tuple(expected.shape)
        np.testing.assert_array_equal(x.numpy(), expected.numpy())


@pytest.mark.parametrize("name, args", SHAPE_CASES)
def test_gradient_through_shape_in_place(name, args):
    a = _shape_array(name)
    grads = []
    for lib in (torch, gradlab):
        x = lib.tensor(a, requires_grad=True)
        y = x * 2
        getattr(y, name)(*args)
        w = lib.tensor(np.arange(y.numel(), dtype=np.float64).reshape(tuple(y.shape)))
        (y * w).sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_array_equal(grads[1], grads[0])


def test_shape_in_place_on_a_leaf_under_no_grad_keeps_it_a_leaf():
    x = gradlab.ones(3, requires_grad=True)
    with gradlab.no_grad():
        x.unsqueeze_(0)
    assert tuple(x.shape) == (1, 3) and x.is_leaf and x.requires_grad


def test_t_of_a_3d_tensor_is_refused_like_torch():
    for lib in (torch, gradlab):
        with pytest.raises(RuntimeError, match="expects a tensor with <= 2 dimensions"):
            lib.ones(2, 2, 2).t_()


def test_shape_in_place_shares_memory_with_the_old_views():
    x = gradlab.zeros(2, 3)
    v = x[0]
    x.t_()
    x[1, 0] = 5.0
    assert v.tolist() == [0.0, 5.0, 0.0]


# ------------------------------------------------------- writes by index
INDEX_CASES = {
    "index_fill_": lambda L, x, s: x.index_fill_(1, L.tensor([0, 2]), -1.5),
    "index_fill_tensor": lambda L, x, s: x.index_fill_(0, L.tensor(1), s.sum()),
    "index_copy_": lambda L, x, s: x.index_copy_(1, L.tensor([3, 0, 1]), s),
    "fill_diagonal_": lambda L, x, s: x.fill_diagonal_(7.0),
    "fill_diagonal_wrap": lambda L, x, s: x.reshape(6, 2).fill_diagonal_(-2.0, wrap=True),
    "masked_scatter_": lambda L, x, s: x.masked_scatter_(x > 0, s),
}


def _index_run(lib, case, grad):
    rng = np.random.default_rng(5)
    leaf = lib.tensor(rng.standard_normal((3, 4)), requires_grad=grad)
    src = lib.tensor(rng.standard_normal((3, 3)), requires_grad=grad)
    x = leaf * 1.0 if grad else leaf
    INDEX_CASES[case](lib, x, src)
    if not grad:
        return x.numpy(), []
    upstream = lib.tensor(rng.standard_normal((3, 4)))
    grads = lib.autograd.grad(x, [leaf, src], upstream, allow_unused=True)
    return x.detach().numpy(), [None if g is None else g.numpy() for g in grads]


@pytest.mark.parametrize("grad", [False, True])
@pytest.mark.parametrize("case", sorted(INDEX_CASES))
def test_writes_by_index_match_torch(case, grad):
    (expected, expected_grads), (actual, actual_grads) = (
        _index_run(torch, case, grad), _index_run(gradlab, case, grad))
    np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=1e-12)
    for g, e in zip(actual_grads, expected_grads):
        if e is None or g is None:  # an unused source: None in one, zeros or None in the other
            assert not (e if g is None else g).any() if (e is not None or g is not None) else True
            continue
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("call, match", [
    (lambda L: L.zeros(3).index_fill_(0, L.tensor([0.5]), 1.0), "index"),
    (lambda L: L.zeros(3, 2).index_copy_(0, L.tensor([0]), L.ones(2, 2)), "index_copy_"),
    (lambda L: L.zeros(2, 3, 4).fill_diagonal_(1.0), "equal length"),
    (lambda L: L.zeros(3).masked_scatter_(L.ones(3) > 0, L.ones(2)), "at least 3"),
    (lambda L: L.zeros(3).masked_scatter_(L.ones(3), L.ones(3)), "boolean"),
])
def test_writes_by_index_refuse_bad_arguments(call, match):
    with pytest.raises((RuntimeError, IndexError)) as expected:
        call(torch)
    with pytest.raises(expected.type, match=match):
        call(gradlab)


# ------------------------------------------------------- random fills
N = 200_000


@pytest.mark.parametrize("name, args, mean, var", [
    ("exponential_", (2.0,), 0.5, 0.25),
    ("log_normal_", (0.1, 0.5), np.exp(0.1 + 0.125), (np.exp(0.25) - 1) * np.exp(0.2 + 0.25)),
    ("geometric_", (0.25,), 4.0, 0.75 / 0.0625),
    ("random_", (3, 7), 4.5, (4 ** 2 - 1) / 12),
    ("random_", (10,), 4.5, (10 ** 2 - 1) / 12),
])
def test_random_fill_moments(name, args, mean, var):
    x = getattr(gradlab.zeros(N, dtype=gradlab.float64), name)(*args)
    assert abs(float(x.mean()) - mean) < 5 * np.sqrt(var / N)
    assert abs(float(x.var()) / var - 1) < 0.05


def test_random_fill_ranges():
    g = gradlab.zeros(N, dtype=gradlab.float64)
    assert float(g.exponential_().min()) >= 0
    assert float(g.geometric_(0.5).min()) == 1 and np.all(g.numpy() == np.round(g.numpy()))
    ints = gradlab.zeros(N, dtype=gradlab.int64).random_(3, 7)
    assert set(np.unique(ints.numpy())) == {3, 4, 5, 6}
    assert set(np.unique(gradlab.zeros(100, dtype=gradlab.bool).random_().numpy())) == {False, True}
    assert float(gradlab.zeros(N, dtype=gradlab.float32).random_().max()) <= 2 ** 24
    assert int(gradlab.zeros(1000, dtype=gradlab.uint8).random_().max()) <= 255


def test_cauchy_quartiles():
    x = gradlab.zeros(N, dtype=gradlab.float64).cauchy_(1.0, 2.0).numpy()
    q1, q2, q3 = np.quantile(x, [0.25, 0.5, 0.75])
    assert abs(q2 - 1.0) < 0.05 and abs(q1 + 1.0) < 0.05 and abs(q3 - 3.0) < 0.05


@pytest.mark.parametrize("name, args", [("exponential_", ()), ("log_normal_", ()),
                                        ("cauchy_", ()), ("geometric_", (0.3,)),
                                        ("random_", (0, 100))])
def test_random_fills_are_reproducible_with_manual_seed(name, args):
    draws = []
    for _ in range(2):
        gradlab.manual_seed(123)
        draws.append(getattr(gradlab.zeros(50), name)(*args).numpy().copy())
    np.testing.assert_array_equal(draws[0], draws[1])
    gen = gradlab.Generator().manual_seed(9)
    a = getattr(gradlab.zeros(50), name)(*args, generator=gen).numpy().copy()
    assert not np.array_equal(a, getattr(gradlab.zeros(50), name)(*args, generator=gen).numpy())


@pytest.mark.parametrize("call, match", [
    (lambda L: L.zeros(3).exponential_(-1.0), "lambda > 0"),
    (lambda L: L.zeros(3).log_normal_(0.0, -1.0), "std > 0"),
    (lambda L: L.zeros(3).cauchy_(0.0, 0.0), "sigma > 0"),
    (lambda L: L.zeros(3).geometric_(1.5), "p to be in"),
    (lambda L: L.zeros(3).random_(5, 2), "'from' to be less than 'to'"),
])
def test_random_fills_refuse_bad_parameters(call, match):
    with pytest.raises(RuntimeError):
        call(torch)
    with pytest.raises(RuntimeError, match=match):
        call(gradlab)


def test_random_fill_of_a_graph_tensor_has_zero_gradient():
    x = gradlab.ones(3, requires_grad=True)
    y = x * 2
    y.exponential_()
    y.sum().backward()
    assert not x.grad.any()


# ------------------------------------------------- the names left out
SKIPPED = {
    # no out-of-place op in gradlab yet, so no in-place form
    "acos_", "acosh_", "arccos_", "arccosh_", "arcsin_", "arcsinh_", "arctan2_", "arctan_",
    "arctanh_", "asin_", "asinh_", "atan2_", "atan_", "atanh_", "cosh_", "sinh_", "tan_",
    "sinc_", "sgn_", "deg2rad_", "rad2deg_", "exp2_", "erfc_", "erfinv_", "lgamma_",
    "digamma_", "polygamma_", "mvlgamma_", "i0_", "igamma_", "igammac_", "heaviside_",
    "gcd_", "lcm_", "ldexp_", "nextafter_", "float_power_", "floor_divide_",
    "bitwise_left_shift_", "bitwise_right_shift_", "addbmm_", "addmv_", "addr_", "renorm_",
    "index_reduce_", "scatter_reduce_", "put_", "conj_physical_",
    # memory and storage management, sparse tensors, Python callbacks: out of scope
    "resize_", "resize_as_", "resize_as_sparse_", "sparse_resize_", "sparse_resize_and_clear_",
    "set_", "share_memory_", "as_strided_", "map_", "map2_", "apply_",
}


def test_only_the_chosen_in_place_methods_are_missing():
    x = gradlab.ones(3)
    missing = {n for n in dir(torch.ones(3))
               if n.endswith("_") and not n.startswith("_") and not hasattr(x, n)}
    assert missing == SKIPPED


def _through_a_view(lib, name, args):
    x = lib.tensor(U, requires_grad=True)
    y = x * 2
    getattr(y[1:], name)(*args)   # writes rows 1 and 2 of y through the view
    upstream = lib.tensor(np.random.default_rng(2).standard_normal((3, 4)))
    (grad,) = lib.autograd.grad(y, [x], upstream)
    return y.detach().numpy(), grad.numpy()


@pytest.mark.parametrize("name, args", [("sqrt_", ()), ("sigmoid_", ()), ("pow_", (3,)),
                                        ("clamp_min_", (1.0,)), ("gt_", (1.0,))])
def test_in_place_write_through_a_view_rebases_the_base_like_torch(name, args):
    (ev, eg), (av, ag) = _through_a_view(torch, name, args), _through_a_view(gradlab, name, args)
    np.testing.assert_allclose(av, ev, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ag, eg, rtol=1e-12, atol=1e-12)


def test_unrecorded_write_through_a_view_changes_the_base():
    x = gradlab.tensor(U)
    x[0].exp_()
    np.testing.assert_allclose(x.numpy()[0], np.exp(U[0]), rtol=1e-15)
    np.testing.assert_array_equal(x.numpy()[1:], U[1:])
    assert x._version == 1


def test_view_reshaped_in_place_then_written_rebases_its_base_like_torch():
    a = np.random.default_rng(0).standard_normal((2, 3))
    grads = []
    for lib in (torch, gradlab):
        x = lib.tensor(a, requires_grad=True)
        y = x * 2
        v = y[0]
        v.unsqueeze_(0)
        v.mul_(3.0)
        y.sin_()
        y.sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name, args", SHAPE_CASES)
def test_shape_in_place_counts_as_a_write_like_torch(name, args):
    for lib in (torch, gradlab):
        x = lib.tensor(_shape_array(name))
        getattr(x, name)(*args)
        assert x._version == 1


def test_shape_change_after_use_raises_rather_than_misplacing_the_gradient():
    """gradlab's limitation: a node recorded before the shape change holds
    the tensor itself (PyTorch's saved variables keep their own shape), so
    a backward that needs the old shape raises instead of guessing."""
    x = gradlab.ones(2, 3, requires_grad=True)
    y = x * 2
    y[0].mul_(3.0)   # CopySlices holds y, of shape (2, 3)
    y.t_()
    with pytest.raises(RuntimeError, match="CopySlicesBackward returned a gradient of shape"):
        y.sum().backward()
