"""Reductions and the softmax family against PyTorch: every form of ``dim``
(None, int, negative, tuple), ``keepdim``, variance corrections, ties in
max/min, empty tensors and the stability of softmax at extreme logits."""

import numpy as np
import pytest
import torch

import gradlab
from helpers import check, randn

DIMS = [None, 0, 1, -1, -3, (0, 2), (-1, 0), (), [1]]


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "amin", "logsumexp"])
@pytest.mark.parametrize("dim", DIMS, ids=str)
@pytest.mark.parametrize("keepdim", [False, True])
def test_reductions_over_dims(name, dim, keepdim):
    x = randn(2, 3, 4, seed=1)
    if name == "logsumexp" and dim in (None, ()):
        dim = (0, 1, 2)  # PyTorch's logsumexp needs a dim and fails on dim=()
    kwargs = {"dim": dim, "keepdim": keepdim}
    check(lambda t: getattr(gradlab, name)(t, **kwargs), lambda t: getattr(torch, name)(t, **kwargs), x)
    check(lambda t: getattr(t, name)(**kwargs), lambda t: getattr(t, name)(**kwargs), x)


@pytest.mark.parametrize("name", ["var", "std"])
@pytest.mark.parametrize("dim", [None, 0, -1, (0, 2), (1,)], ids=str)
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("how", [{}, {"unbiased": False}, {"unbiased": True}, {"correction": 0},
                                 {"correction": 2}], ids=str)
def test_var_std(name, dim, keepdim, how):
    x = randn(3, 4, 5, seed=2)
    kwargs = dict(how, dim=dim, keepdim=keepdim)
    if "unbiased" in how:
        # PyTorch takes unbiased positionally: var(dim, unbiased, keepdim)
        check(lambda t: getattr(t, name)(dim, how["unbiased"], keepdim),
              lambda t: getattr(t, name)(dim, how["unbiased"], keepdim), x)
        return
    check(lambda t: getattr(gradlab, name)(t, **kwargs), lambda t: getattr(torch, name)(t, **kwargs), x)


def test_var_of_one_element_with_correction_matches_torch():
    # N - correction = 0: PyTorch gives inf (0/0 = nan for the value) with a warning
    x = np.array([[1.0, 2.0, 3.0]])
    with pytest.warns(UserWarning):
        torch.var(torch.tensor(x), dim=0)
    check(lambda t: t.var(dim=0, correction=0), lambda t: t.var(dim=0, correction=0), x)


def test_std_of_constant_input_has_zero_gradient():
    # sqrt's derivative is inf at 0; PyTorch (and gradlab) take std's as 0
    x = np.array([[1.0, 1.0, 1.0], [0.5, -1.0, 2.0]])
    check(lambda t: t.std(1), lambda t: t.std(1), x)
    check(lambda t: t.std(), lambda t: t.std(), np.full((2, 2), 3.0))
    t = gradlab.tensor(np.ones(3), requires_grad=True)
    (g,) = gradlab.autograd.grad(t.std(), t, create_graph=True)
    (h,) = gradlab.autograd.grad(g.sum(), t)
    assert np.all(np.isfinite(h.numpy()))


def test_sum_and_mean_of_empty_tensors():
    x = np.zeros((0, 3))
    check(lambda t: t.sum(), lambda t: t.sum(), x)
    check(lambda t: t.sum(0), lambda t: t.sum(0), x)
    check(lambda t: t.sum(1), lambda t: t.sum(1), x)
    check(lambda t: t.mean(1), lambda t: t.mean(1), x)
    check(lambda t: t.mean(0), lambda t: t.mean(0), x)


def test_reductions_of_0d_tensors():
    x = np.array(1.5)
    for name in ["sum", "mean", "amax", "amin"]:
        check(lambda t, n=name: getattr(t, n)(), lambda t, n=name: getattr(t, n)(), x)
        check(lambda t, n=name: getattr(t, n)(0), lambda t, n=name: getattr(t, n)(0), x)
        check(lambda t, n=name: getattr(t, n)(-1, keepdim=True),
              lambda t, n=name: getattr(t, n)(-1, keepdim=True), x)
    check(lambda t: t.logsumexp(0), lambda t: t.logsumexp(0), x)
    check(lambda t: t.softmax(0), lambda t: t.softmax(0), x)


def test_max_min_along_dim_of_0d_tensor():
    for name in ("max", "min"):
        for dim in (0, -1):
            check(lambda t, n=name, d=dim: tuple(getattr(t, n)(d)),
                  lambda t, n=name, d=dim: tuple(getattr(t, n)(d)), np.array(1.5))


@pytest.mark.parametrize("name", ["amax", "amin"])
def test_amax_of_empty_tensor_over_its_non_empty_dims(name):
    x = np.zeros((2, 0, 3))
    for dim in (0, 2, (0, 2), -1):
        check(lambda t, d=dim: getattr(t, name)(d), lambda t, d=dim: getattr(t, name)(d), x)
    check(lambda t: t.max(0).values, lambda t: t.max(0).values, x)


def test_sum_with_dtype():
    x = randn(2, 3, seed=3).astype(np.float32)
    check(lambda t: t.sum(1, dtype=gradlab.float64), lambda t: t.sum(1, dtype=torch.float64), x, atol=1e-6)
    check(lambda t: t.mean(dtype=gradlab.float64), lambda t: t.mean(dtype=torch.float64), x, atol=1e-6)


TIES = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 2.0, 2.0], [-1.0, 5.0, 4.0, 5.0]])


@pytest.mark.parametrize("name", ["amax", "amin"])
@pytest.mark.parametrize("dim", [None, 0, 1, -1, (0, 1)], ids=str)
def test_amax_amin_share_gradient_among_ties(name, dim):
    kwargs = {} if dim is None else {"dim": dim}
    check(lambda t: getattr(t, name)(**kwargs), lambda t: getattr(t, name)(**kwargs), TIES)


@pytest.mark.parametrize("name", ["max", "min"])
def test_full_max_min_share_gradient_among_ties(name):
    check(lambda t: getattr(t, name)(), lambda t: getattr(t, name)(), TIES)
    check(lambda t: getattr(gradlab, name)(t), lambda t: getattr(torch, name)(t), np.ones((2, 2)))


@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_max_min_along_dim_give_values_and_first_index(name, dim, keepdim):
    # the gradient goes to the index returned (the first extreme), as PyTorch
    check(lambda t: tuple(getattr(t, name)(dim, keepdim=keepdim)),
          lambda t: tuple(getattr(t, name)(dim, keepdim=keepdim)), TIES)
    check(lambda t: getattr(t, name)(dim, keepdim).values, lambda t: getattr(t, name)(dim, keepdim).values,
          randn(3, 4, 2, seed=4))
    out = getattr(gradlab.tensor(TIES), name)(dim)
    assert out.indices.dtype == gradlab.int64


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@pytest.mark.parametrize("dim", [None, 0, 1, -1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_argmax_argmin(name, dim, keepdim):
    check(lambda t: getattr(t, name)(dim, keepdim), lambda t: getattr(t, name)(dim, keepdim), TIES)
    check(lambda t: getattr(gradlab, name)(t, dim=dim, keepdim=keepdim),
          lambda t: getattr(torch, name)(t, dim=dim, keepdim=keepdim), randn(3, 4, 2, seed=5))


def test_argmax_of_0d_and_integer_tensors():
    check(lambda t: t.argmax(), lambda t: t.argmax(), np.array(2.0), grad=False)
    check(lambda t: t.argmax(0), lambda t: t.argmax(0), np.array(2.0), grad=False)
    check(lambda t: t.argmin(1), lambda t: t.argmin(1), np.array([[3, 1, 1], [0, 7, 0]]), grad=False)
    check(lambda t: t.amax(1), lambda t: t.amax(1), np.array([[3, 1, 1], [0, 7, 0]]), grad=False)


SOFTMAX = {
    "softmax": (gradlab.softmax, torch.softmax),
    "log_softmax": (gradlab.log_softmax, torch.log_softmax),
}


@pytest.mark.parametrize("name", SOFTMAX)
@pytest.mark.parametrize("dim", [0, 1, -1, -3])
def test_softmax_family_dims(name, dim):
    gl_fn, th_fn = SOFTMAX[name]
    check(lambda t: gl_fn(t, dim), lambda t: th_fn(t, dim), randn(2, 3, 4, seed=6))
    check(lambda t: getattr(t, name)(dim=dim), lambda t: getattr(t, name)(dim=dim), randn(2, 3, 4, seed=7))


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "logsumexp"])
@pytest.mark.parametrize("scale", [1e4, -1e4, 1e300])
def test_softmax_family_at_huge_logits(name, scale):
    x = np.array([[1.0, 0.5, -1.0, 0.0], [1.0, 1.0 + 1e-4, 0.2, 3.0]]) * scale
    if scale == 1e300:
        x = np.array([[1e300, 1.0, -1e300, 0.0]])
    check(lambda t: getattr(t, name)(1), lambda t: getattr(t, name)(1), x)


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "logsumexp"])
def test_softmax_family_with_rows_of_minus_inf(name):
    x = np.array([[-np.inf, -np.inf, -np.inf], [0.0, -np.inf, 1.0], [-np.inf, 2.0, -np.inf]])
    check(lambda t: getattr(t, name)(-1), lambda t: getattr(t, name)(-1), x, grad=False)
    # gradients are only finite where a row has a finite element
    check(lambda t: getattr(t, name)(-1), lambda t: getattr(t, name)(-1), x[1:])


def test_softmax_of_plus_inf_is_nan_like_torch():
    x = np.array([[np.inf, 0.0, 1.0], [np.inf, np.inf, 0.0]])
    check(lambda t: t.softmax(1), lambda t: t.softmax(1), x, grad=False)
    check(lambda t: t.log_softmax(1), lambda t: t.log_softmax(1), x, grad=False)
    check(lambda t: t.logsumexp(1), lambda t: t.logsumexp(1), x, grad=False)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_with_dtype_and_on_empty(name):
    x = randn(2, 3, seed=8).astype(np.float32)
    check(lambda t: getattr(t, name)(1, dtype=gradlab.float64),
          lambda t: getattr(t, name)(1, dtype=torch.float64), x, atol=1e-6)
    check(lambda t: getattr(t, name)(1), lambda t: getattr(t, name)(1), np.zeros((0, 3)))
    check(lambda t: getattr(t, name)(0), lambda t: getattr(t, name)(0), np.zeros((2, 0)))


def test_logsumexp_of_empty_dimension_is_minus_inf():
    check(lambda t: t.logsumexp(1), lambda t: t.logsumexp(1), np.zeros((2, 0)), grad=False)
    check(lambda t: t.logsumexp(0), lambda t: t.logsumexp(0), np.zeros((0, 3)))
