"""The functions of issue 17 that move, pick and write elements: narrow,
roll, movedim, tril/triu, diag/diagonal, repeat_interleave, scatter,
index_add, masked_fill and their in-place forms; sort, argsort, topk,
unique, histc, histogram. Values and gradients against PyTorch (float64)."""

import numpy as np
import pytest
import torch

import gradlab
from helpers import check, gradchecks, randn


@pytest.mark.parametrize("dim,start,length", [(0, 1, 2), (1, 0, 3), (-1, -2, 2), (1, 4, 0)])
def test_narrow(dim, start, length):
    x = randn(3, 4)
    check(lambda t: gradlab.narrow(t, dim, start, length), lambda t: torch.narrow(t, dim, start, length), x)
    check(lambda t: t.narrow(dim, start, length), lambda t: t.narrow(dim, start, length), x)


def test_narrow_out_of_range():
    with pytest.raises(RuntimeError, match="exceeds dimension size"):
        gradlab.ones(3).narrow(0, 2, 2)
    with pytest.raises(IndexError, match="out of range"):
        gradlab.ones(3).narrow(0, 5, 0)


@pytest.mark.parametrize("shifts,dims", [(1, None), (-2, None), (1, 0), (5, 1), ((1, -1), (0, 1)),
                                         (0, 1), (-7, -1)], ids=str)
def test_roll(shifts, dims):
    x = randn(3, 4)
    check(lambda t: gradlab.roll(t, shifts, dims), lambda t: torch.roll(t, shifts, dims), x)
    check(lambda t: t.roll(shifts, dims), lambda t: t.roll(shifts, dims), x)


@pytest.mark.parametrize("src,dst", [(0, -1), (-1, 0), ((0, 1), (2, 0))], ids=str)
def test_movedim(src, dst):
    x = randn(2, 3, 4)
    check(lambda t: gradlab.movedim(t, src, dst), lambda t: torch.movedim(t, src, dst), x)
    check(lambda t: t.moveaxis(src, dst), lambda t: t.moveaxis(src, dst), x)


@pytest.mark.parametrize("name", ["tril", "triu"])
@pytest.mark.parametrize("diagonal", [0, 1, -1, 3, -4])
@pytest.mark.parametrize("shape", [(4, 4), (3, 5), (2, 5, 3)], ids=str)
def test_tril_triu(name, diagonal, shape):
    x = randn(*shape)
    check(lambda t: getattr(gradlab, name)(t, diagonal), lambda t: getattr(torch, name)(t, diagonal), x)
    check(lambda t: getattr(t, name)(diagonal=diagonal), lambda t: getattr(t, name)(diagonal=diagonal), x)


def test_tril_keeps_inf_out_of_the_lower_triangle_and_takes_ints():
    x = np.array([[1.0, np.inf], [2.0, 3.0]])
    check(lambda t: t.tril(), lambda t: t.tril(), x)
    check(lambda t: t.triu(1), lambda t: t.triu(1), np.arange(9).reshape(3, 3), grad=False)


@pytest.mark.parametrize("diagonal", [0, 1, -2])
def test_diag(diagonal):
    check(lambda t: gradlab.diag(t, diagonal), lambda t: torch.diag(t, diagonal), randn(3))
    check(lambda t: t.diag(diagonal), lambda t: t.diag(diagonal), randn(3, 4))
    check(lambda t: gradlab.diagonal(t, diagonal, 1, 2), lambda t: torch.diagonal(t, diagonal, 1, 2),
          randn(2, 3, 4))


@pytest.mark.parametrize("repeats,dim", [(2, None), (2, 0), (3, 1), ([1, 0, 2], 0), ([2, 1, 1, 3], -1)],
                         ids=str)
def test_repeat_interleave(repeats, dim):
    x = randn(3, 4)

    def gl(t):
        r = gradlab.tensor(repeats) if isinstance(repeats, list) else repeats
        return gradlab.repeat_interleave(t, r, dim)

    def th(t):
        r = torch.tensor(repeats) if isinstance(repeats, list) else repeats
        return torch.repeat_interleave(t, r, dim)

    check(gl, th, x)
    check(lambda t: t.repeat_interleave(2, dim=dim), lambda t: t.repeat_interleave(2, dim=dim), x)


def test_repeat_interleave_of_counts_alone():
    counts = np.array([2, 0, 3])
    check(lambda c: gradlab.repeat_interleave(c), lambda c: torch.repeat_interleave(c), counts, grad=False)
    with pytest.raises(RuntimeError, match="same size as input"):
        gradlab.repeat_interleave(gradlab.ones(3), gradlab.tensor([1, 2]), 0)


INDEX = np.array([[2, 0, 1, 3], [1, 2, 0, 0]])


@pytest.mark.parametrize("dim", [0, 1])
def test_scatter_src(dim):
    index = np.array([[2, 0, 1], [1, 2, 0]]) if dim == 0 else np.array([[3, 0, 1], [1, 2, 0]])
    x, src = randn(3, 4), randn(2, 3, seed=1)
    check(lambda t, s, i: gradlab.scatter(t, dim, i, s), lambda t, s, i: torch.scatter(t, dim, i, s),
          x, src, index)
    check(lambda t, s, i: t.scatter(dim, i, s), lambda t, s, i: t.scatter(dim, i, s), x, src, index)


def test_scatter_value_and_larger_src():
    x, index = randn(3, 4), np.array([[2, 0, 1, 0]])
    check(lambda t, i: t.scatter(0, i, 1.5), lambda t, i: t.scatter(0, i, 1.5), x, index)
    check(lambda t, i: gradlab.scatter(t, 0, i, value=-2.0), lambda t, i: torch.scatter(t, 0, i, value=-2.0),
          x, index)
    # PyTorch's own backward fails for a src larger than index: values only,
    # and the gradient by gradcheck
    check(lambda t, s, i: t.scatter(1, i, s), lambda t, s, i: t.scatter(1, i, s), x, randn(3, 5), index,
          grad=False)
    gradchecks(lambda t, s: t.scatter(1, gradlab.tensor([[2, 0, 1, 3]]), s), x, randn(3, 5))


@pytest.mark.filterwarnings("ignore:The reduce argument of torch.scatter")
@pytest.mark.parametrize("reduce", ["add", "multiply"])
def test_scatter_reduce_forms(reduce):
    x, src, index = randn(3, 4), randn(2, 4, seed=1), np.array([[2, 0, 1, 0], [2, 2, 1, 0]])
    check(lambda t, s, i: t.scatter(0, i, s, reduce=reduce),
          lambda t, s, i: t.scatter(0, i, s, reduce=reduce), x, src, index, grad=False)


def test_scatter_add_and_index_add():
    x, src, index = randn(3, 4), randn(2, 4, seed=1), np.array([[2, 0, 1, 0], [2, 2, 1, 0]])
    check(lambda t, s, i: t.scatter_add(0, i, s), lambda t, s, i: t.scatter_add(0, i, s), x, src, index)
    idx = np.array([0, 2, 0])
    check(lambda t, s, i: gradlab.index_add(t, 0, i, s), lambda t, s, i: torch.index_add(t, 0, i, s),
          randn(3, 4), randn(3, 4, seed=2), idx)
    check(lambda t, s, i: t.index_add(1, i, s, alpha=0.5), lambda t, s, i: t.index_add(1, i, s, alpha=0.5),
          randn(2, 4), randn(2, 3, seed=3), idx)


def test_index_add_errors():
    with pytest.raises(RuntimeError, match="must have shape"):
        gradlab.ones(3, 4).index_add(0, gradlab.tensor([0, 1]), gradlab.ones(3, 4))
    with pytest.raises(IndexError, match="out of bounds"):
        gradlab.ones(3, 4).index_add(0, gradlab.tensor([0, 3]), gradlab.ones(2, 4))


def test_in_place_forms_match_pytorch():
    x0 = randn(3, 4)
    mask = x0 > 0
    index, src = np.array([[2, 0, 1, 0]]), randn(1, 4, seed=1)
    cases = [
        ("masked_fill_", lambda m: (m.tensor(mask), 0.5)),
        ("scatter_", lambda m: (0, m.tensor(index), m.tensor(src))),
        ("scatter_add_", lambda m: (0, m.tensor(index), m.tensor(src))),
        ("index_add_", lambda m: (1, m.tensor([0, 0]), m.ones(3, 2, dtype=m.float64))),
        ("tril_", lambda m: ()),
        ("triu_", lambda m: (1,)),
    ]
    for name, args in cases:
        g, t = gradlab.tensor(x0), torch.tensor(x0)
        with gradlab.no_grad():
            out = getattr(g, name)(*args(gradlab))
        getattr(t, name)(*args(torch))
        assert out is g, name
        np.testing.assert_allclose(g.numpy(), t.numpy(), rtol=0, atol=0, err_msg=name)
    g, t = gradlab.tensor(x0), torch.tensor(x0)
    g.scatter_(0, gradlab.tensor(index), gradlab.tensor(src), reduce="multiply")
    t.scatter_(0, torch.tensor(index), torch.tensor(src), reduce="multiply")
    np.testing.assert_allclose(g.numpy(), t.numpy(), rtol=1e-15)


def test_new_backward_rules_pass_gradcheck():
    x, src, index = randn(3, 4), randn(2, 4, seed=1), gradlab.tensor([[2, 0, 1, 3], [1, 2, 0, 3]])
    gradchecks(lambda t, s: t.scatter(1, index, s), x, src)


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("descending", [False, True])
def test_sort_argsort(dim, descending):
    x = randn(3, 5, 2, seed=4)
    check(lambda t: gradlab.sort(t, dim, descending), lambda t: torch.sort(t, dim, descending), x)
    check(lambda t: t.sort(dim=dim, descending=descending),
          lambda t: t.sort(dim=dim, descending=descending), x)
    check(lambda t: t.argsort(dim, descending), lambda t: t.argsort(dim, descending), x, grad=False)


def test_sort_is_stable_and_takes_integers():
    x = np.array([3, 1, 2, 1, 3, 0])
    check(lambda t: t.sort(stable=True), lambda t: t.sort(stable=True), x, grad=False)
    check(lambda t: t.sort(descending=True, stable=True), lambda t: t.sort(descending=True, stable=True),
          x, grad=False)
    check(lambda t: t.sort(), lambda t: t.sort(), np.array([True, False, True]), grad=False)


@pytest.mark.parametrize("k,dim,largest", [(2, -1, True), (1, 0, False), (3, 1, True), (0, 1, True)])
def test_topk(k, dim, largest):
    x = randn(4, 5, seed=5)
    check(lambda t: gradlab.topk(t, k, dim, largest), lambda t: torch.topk(t, k, dim, largest), x)
    check(lambda t: t.topk(k, dim=dim, largest=largest), lambda t: t.topk(k, dim=dim, largest=largest), x)
    with pytest.raises(RuntimeError, match="k"):
        gradlab.topk(gradlab.ones(3), 4)


@pytest.mark.parametrize("kw", [{}, {"return_inverse": True}, {"return_counts": True},
                                {"return_inverse": True, "return_counts": True}], ids=str)
def test_unique(kw):
    x = np.array([[3, 1, 2], [1, 3, 3]])
    check(lambda t: gradlab.unique(t, **kw), lambda t: torch.unique(t, **kw), x, grad=False)
    check(lambda t: t.unique(sorted=True, **kw), lambda t: t.unique(sorted=True, **kw), x, grad=False)
    rows = np.array([[1, 2], [0, 1], [1, 2]])
    check(lambda t: t.unique(dim=0, **kw), lambda t: t.unique(dim=0, **kw), rows, grad=False)
    check(lambda t: t.unique(**kw), lambda t: t.unique(**kw), np.array([0.5, -1.0, 0.5]), grad=False)


@pytest.mark.parametrize("bins,lo,hi", [(4, 0, 3), (5, 0, 0), (3, -1, 1), (1, 0, 0)])
def test_histc(bins, lo, hi):
    x = np.array([1.0, 2.0, 1.0, 2.5, -0.5, 3.0, 7.0])
    check(lambda t: gradlab.histc(t, bins, lo, hi), lambda t: torch.histc(t, bins, lo, hi), x, grad=False)
    check(lambda t: t.histc(bins=bins, min=lo, max=hi), lambda t: t.histc(bins=bins, min=lo, max=hi), x,
          grad=False)
    check(lambda t: t.histc(3), lambda t: t.histc(3), np.full(4, 2.0), grad=False)


def test_histogram():
    x, w = randn(20, seed=6), np.abs(randn(20, seed=7))
    check(lambda t: gradlab.histogram(t, 5), lambda t: torch.histogram(t, 5), x, grad=False)
    check(lambda t: t.histogram(4, range=(-1.0, 1.0), density=True),
          lambda t: t.histogram(4, range=(-1.0, 1.0), density=True), x, grad=False)
    check(lambda t, v: gradlab.histogram(t, 3, weight=v), lambda t, v: torch.histogram(t, 3, weight=v),
          x, w, grad=False)
    edges = np.array([-2.0, 0.0, 0.5, 3.0])
    check(lambda t, e: gradlab.histogram(t, e), lambda t, e: torch.histogram(t, e), x, edges, grad=False)
