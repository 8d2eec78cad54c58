"""The functions of issue 17 that compute: logarithms, products and running
sums, norms and distances, einsum, addmm/baddbmm, cosine similarity;
values and gradients against PyTorch in float64, and gradcheck /
gradgradcheck of the new backward rules."""

import math

import numpy as np
import pytest
import torch

import gradlab
import gradlab.nn.functional as F
from helpers import check, gradchecks, randn


@pytest.mark.parametrize("name", ["log10", "log2", "log1p", "expm1"])
def test_logarithms(name):
    x = randn(3, 4, low=0.1)
    check(lambda t: getattr(gradlab, name)(t), lambda t: getattr(torch, name)(t), x)
    check(lambda t: getattr(t, name)(), lambda t: getattr(t, name)(), x)


def test_logarithms_of_integers_are_float():
    x = np.array([1, 10, 100])
    check(lambda t: gradlab.log10(t), lambda t: torch.log10(t), x, grad=False)
    check(lambda t: t.log2(), lambda t: t.log2(), x, grad=False)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cumsum_cumprod(dim):
    x = randn(3, 4, 2)
    check(lambda t: gradlab.cumsum(t, dim), lambda t: torch.cumsum(t, dim), x)
    check(lambda t: t.cumsum(dim=dim), lambda t: t.cumsum(dim=dim), x)
    check(lambda t: gradlab.cumprod(t, dim), lambda t: torch.cumprod(t, dim), x)
    check(lambda t: t.cumprod(dim), lambda t: t.cumprod(dim), x)


@pytest.mark.parametrize("zeros", [[2], [0, 3], [1, 4]], ids=str)
def test_cumprod_and_prod_with_zeros(zeros):
    x = randn(2, 6, seed=3)
    x[0, zeros] = 0.0
    x[1, zeros[0]] = 0.0
    check(lambda t: t.cumprod(1), lambda t: t.cumprod(1), x)
    check(lambda t: t.prod(1), lambda t: t.prod(1), x)
    check(lambda t: t.prod(), lambda t: t.prod(), x)


def test_cumsum_of_integers_is_int64():
    x = np.array([[1, 2], [3, 4]], dtype=np.int32)
    check(lambda t: t.cumsum(0), lambda t: t.cumsum(0), x, grad=False)
    check(lambda t: gradlab.prod(t), lambda t: torch.prod(t), x, grad=False)
    check(lambda t: t.cumsum(1, dtype=gradlab.float64), lambda t: t.cumsum(1, dtype=torch.float64),
          x, grad=False)


@pytest.mark.parametrize("dim", [None, 0, -1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_prod(dim, keepdim):
    x = randn(3, 4, seed=4)
    if dim is None:
        check(lambda t: gradlab.prod(t), lambda t: torch.prod(t), x)
        return
    check(lambda t: gradlab.prod(t, dim, keepdim), lambda t: torch.prod(t, dim, keepdim), x)
    check(lambda t: t.prod(dim=dim, keepdim=keepdim), lambda t: t.prod(dim=dim, keepdim=keepdim), x)


def test_new_backward_rules_pass_gradcheck():
    x = randn(3, 4, seed=5, low=0.5)
    gradchecks(lambda t: t.cumsum(1), x)
    gradchecks(lambda t: t.cumprod(1), x)
    gradchecks(lambda t: t.prod(0), x)
    gradchecks(lambda a, b: gradlab.einsum("ij,jk->ik", a, b), x, randn(4, 2, seed=6))
    gradchecks(lambda a: gradlab.einsum("ii->i", a), randn(3, 3, seed=7))
    y = randn(2, 5, seed=8)
    y[0, 1] = 0.0
    gradchecks(lambda t: t.cumprod(1), y)
    gradchecks(lambda t: t.prod(1), y)


P_DIMS = [("fro", None), (2, None), (1, None), (3, 1), (math.inf, None), (-math.inf, 0), (0, 1),
          ("fro", (0, 1)), (2, -1), (1.5, 0), (None, None)]


@pytest.mark.parametrize("p,dim", P_DIMS, ids=str)
@pytest.mark.parametrize("keepdim", [False, True])
def test_norm(p, dim, keepdim):
    x = randn(3, 4, seed=9)
    check(lambda t: gradlab.norm(t, p, dim, keepdim), lambda t: torch.norm(t, p, dim, keepdim), x)
    check(lambda t: t.norm(p=p, dim=dim, keepdim=keepdim),
          lambda t: t.norm(p=p, dim=dim, keepdim=keepdim), x)


def test_norm_of_zero_vector_has_zero_gradient():
    check(lambda t: t.norm(), lambda t: t.norm(), np.zeros(3))
    check(lambda t: t.norm(dim=1), lambda t: t.norm(dim=1), np.array([[0.0, 0.0], [3.0, 4.0]]))


def test_norm_rejects_integer_and_nuclear():
    with pytest.raises(RuntimeError, match="floating point"):
        gradlab.norm(gradlab.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="'nuc'"):
        gradlab.norm(gradlab.ones(2, 2), "nuc")


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, math.inf])
def test_cdist(p):
    a, b = randn(4, 3, seed=10), randn(5, 3, seed=11)
    check(lambda x, y: gradlab.cdist(x, y, p), lambda x, y: torch.cdist(x, y, p), a, b)
    a, b = randn(2, 4, 3, seed=12), randn(2, 5, 3, seed=13)
    check(lambda x, y: gradlab.cdist(x, y, p), lambda x, y: torch.cdist(x, y, p), a, b)


def test_cdist_errors():
    with pytest.raises(RuntimeError, match="same number of columns"):
        gradlab.cdist(gradlab.ones(2, 3), gradlab.ones(2, 4))


EQUATIONS = [
    ("ij,jk->ik", [(3, 4), (4, 5)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("ij,ij->", [(3, 4), (3, 4)]),
    ("ij->ji", [(3, 4)]),
    ("ij->j", [(3, 4)]),
    ("ii->", [(4, 4)]),
    ("ii->i", [(4, 4)]),
    ("i,j->ij", [(3,), (4,)]),
    ("ij,jk", [(3, 4), (4, 5)]),
    ("...ij,...jk->...ik", [(2, 3, 4), (4, 5)]),
    ("bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 5, 4)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    ("i,i,i->", [(4,), (4,), (4,)]),
    ("ijk->k", [(2, 3, 4)]),
    ("i j , j k -> i k", [(3, 4), (4, 5)]),
]


@pytest.mark.parametrize("equation,shapes", EQUATIONS, ids=[e for e, _ in EQUATIONS])
def test_einsum(equation, shapes):
    inputs = [randn(*s, seed=20 + i) for i, s in enumerate(shapes)]
    check(lambda *t: gradlab.einsum(equation, *t), lambda *t: torch.einsum(equation, *t), *inputs)


def test_einsum_takes_a_list_and_reports_bad_equations():
    a, b = randn(2, 3), randn(3, 2, seed=1)
    check(lambda x, y: gradlab.einsum("ij,jk->ik", [x, y]), lambda x, y: torch.einsum("ij,jk->ik", [x, y]),
          a, b)
    with pytest.raises(ValueError, match="2 operands"):
        gradlab.einsum("ij,jk->ik", gradlab.ones(2, 2))
    with pytest.raises(RuntimeError, match="does not fit"):
        gradlab.einsum("ijk->i", gradlab.ones(2, 2))
    with pytest.raises(RuntimeError, match="size"):
        gradlab.einsum("ij,jk->ik", gradlab.ones(2, 3), gradlab.ones(4, 2))


@pytest.mark.parametrize("beta,alpha", [(1, 1), (0.5, 2.0), (0, 1)])
def test_addmm_baddbmm(beta, alpha):
    inp, m1, m2 = randn(3, 5), randn(3, 4, seed=1), randn(4, 5, seed=2)
    check(lambda i, a, b: gradlab.addmm(i, a, b, beta=beta, alpha=alpha),
          lambda i, a, b: torch.addmm(i, a, b, beta=beta, alpha=alpha), inp, m1, m2)
    check(lambda i, a, b: i.addmm(a, b, beta=beta, alpha=alpha),
          lambda i, a, b: i.addmm(a, b, beta=beta, alpha=alpha), randn(5), m1, m2)
    b1, b2 = randn(2, 3, 4, seed=3), randn(2, 4, 5, seed=4)
    check(lambda i, a, b: gradlab.baddbmm(i, a, b, beta=beta, alpha=alpha),
          lambda i, a, b: torch.baddbmm(i, a, b, beta=beta, alpha=alpha), randn(2, 3, 5), b1, b2)


def test_addmm_with_beta_zero_ignores_nan_in_input():
    inp = np.full((3, 5), np.nan)
    check(lambda i, a, b: gradlab.addmm(i, a, b, beta=0),
          lambda i, a, b: torch.addmm(i, a, b, beta=0), inp, randn(3, 4), randn(4, 5, seed=1))


@pytest.mark.parametrize("dim", [1, 0, -1])
def test_cosine_similarity(dim):
    a, b = randn(4, 5, seed=30), randn(4, 5, seed=31)
    check(lambda x, y: F.cosine_similarity(x, y, dim), lambda x, y: torch.nn.functional.cosine_similarity(
        x, y, dim), a, b)


def test_cosine_similarity_broadcasts_and_floors_the_norm():
    a, b = randn(4, 5, seed=32), randn(1, 5, seed=33)
    check(lambda x, y: F.cosine_similarity(x, y), lambda x, y: torch.nn.functional.cosine_similarity(x, y),
          a, b)
    small = randn(3, 4, seed=34) * 1e-9
    check(lambda x, y: F.cosine_similarity(x, y, eps=1e-6),
          lambda x, y: torch.nn.functional.cosine_similarity(x, y, eps=1e-6), small, randn(3, 4, seed=35))
