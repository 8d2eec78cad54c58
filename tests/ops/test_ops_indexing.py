"""Indexing against PyTorch: basic indices (ints, slices with steps,
negative indices, None, Ellipsis), advanced ones (integer arrays with
repeats, boolean masks, Tensors, mixed with basic), and gather,
scatter_add, index_select, masked_fill, one_hot."""

import numpy as np
import pytest
import torch

import gradlab
from helpers import check, randn

X = randn(4, 5, 6, seed=1)


def _both(index_fn):
    """The same index for both libraries; ``T`` builds an index tensor of the
    library being called (gradlab.tensor or torch.tensor)."""
    return (lambda t: t[index_fn(gradlab.tensor)], lambda t: t[index_fn(torch.tensor)])


INDICES = {
    "int": lambda T: 1,
    "negative int": lambda T: -1,
    "int,int,int": lambda T: (1, -2, 3),
    "slice": lambda T: slice(1, 3),
    "slice step": lambda T: (slice(None, None, 2), slice(1, None, 3)),
    "negative slice bounds": lambda T: (slice(-3, -1), slice(None, -2)),
    "empty slice": lambda T: slice(3, 1),
    "None": lambda T: (None, 1, None),
    "Ellipsis": lambda T: (Ellipsis, 2),
    "Ellipsis middle": lambda T: (0, Ellipsis, slice(1, 4)),
    "list with repeats": lambda T: [0, 2, 0, 3, 0],
    "negative list": lambda T: [-1, -4, 1],
    "2-D array": lambda T: np.array([[0, 1], [1, 3]]) if T is gradlab.tensor else T([[0, 1], [1, 3]]),
    "two arrays broadcast": lambda T: ([[0], [3]], [1, 4, 1]),
    "tensor index": lambda T: T([3, 1, 1]),
    "0-d tensor index": lambda T: T(2),
    "bool mask all dims": lambda T: T(X > 0.3),
    "bool mask first dim": lambda T: T([True, False, True, True]),
    "bool mask 2 dims": lambda T: T(X[:, :, 0] > 0),
    "mixed slice+array": lambda T: (slice(1, 3), [0, 4, 4]),
    "mixed int+array": lambda T: (1, slice(None), [5, 0, 5]),
    "int, Ellipsis, array": lambda T: (1, Ellipsis, [0, 1]),
    "0-d tensor, slice, array": lambda T: (T(1), slice(None), T([5, 0, 5])),
    "None, Ellipsis, int, array": lambda T: (None, Ellipsis, 1, [0, 1]),
    "array, slice, int": lambda T: ([0, 1], slice(None), 1),
    "int, mask, slice": lambda T: (1, T([True, False, True, True, False]), slice(2, None)),
    "slice, mask, int": lambda T: (slice(None), T([True, False, True, True, False]), 1),
    "array, int, array": lambda T: ([0, 1], 2, [3, 4]),
    "arrays around empty Ellipsis": lambda T: (None, [0, 1], Ellipsis, [1, 2], [2, 3]),
    "mask, empty Ellipsis, int, list": lambda T: (None, T([False, True, False, True]), Ellipsis, 0, [0]),
    "arrays split by slice": lambda T: ([0, 1], slice(None), [2, 3]),
    "mixed None+array": lambda T: (None, [1, 1], Ellipsis),
    "tensor with repeats 2-D": lambda T: T([[0, 0], [1, 0]]),
    "empty list": lambda T: T([], dtype=gradlab.int64 if T is gradlab.tensor else torch.int64),
    "all false mask": lambda T: T([False] * 4),
}


@pytest.mark.parametrize("name", INDICES)
def test_getitem(name):
    gl_fn, th_fn = _both(INDICES[name])
    check(gl_fn, th_fn, X)


def test_getitem_of_float32_and_0d_result():
    x = X.astype(np.float32)
    check(lambda t: t[1, 2, 3], lambda t: t[1, 2, 3], x)
    check(lambda t: t[..., None], lambda t: t[..., None], x)


def test_getitem_with_numpy_integer_index():
    check(lambda t: t[np.int64(2)], lambda t: t[2], X)
    check(lambda t: t[np.array([0, 0, 2])], lambda t: t[torch.tensor([0, 0, 2])], X)


def test_repeated_indices_accumulate_gradients():
    x = gradlab.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 0.0, 1.0])


@pytest.mark.parametrize("dim", [0, 1, 2, -1, -3])
def test_gather(dim):
    shape = list(X.shape)
    shape[dim] = 7  # the index may be longer than the input along dim
    index = np.random.default_rng(2).integers(0, X.shape[dim], size=shape)
    check(lambda t: t.gather(dim, gradlab.tensor(index)), lambda t: t.gather(dim, torch.tensor(index)), X)
    small = index[:2, :3, :4]
    check(lambda t: gradlab.gather(t, dim, gradlab.tensor(small)),
          lambda t: torch.gather(t, dim, torch.tensor(small)), X)




@pytest.mark.parametrize("dim", [0, 1, -1])
def test_scatter_add(dim):
    x = randn(3, 4, seed=4)
    shape = [3, 4]
    shape[dim] = 6
    index = np.random.default_rng(5).integers(0, x.shape[dim], size=shape)  # repeats are certain
    src = randn(*shape, seed=6)
    check(lambda t, s: t.scatter_add(dim, gradlab.tensor(index), s),
          lambda t, s: t.scatter_add(dim, torch.tensor(index), s), x, src)
    # src larger than index: only its leading part is used (PyTorch cannot
    # backpropagate to such a src, so only x's gradient is compared)
    check(lambda t: gradlab.scatter_add(t, dim, gradlab.tensor(index[:2, :2]), gradlab.tensor(src)),
          lambda t: torch.scatter_add(t, dim, torch.tensor(index[:2, :2]), torch.tensor(src)), x)


@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_index_select(dim):
    index = np.array([3, 0, 0, 1])
    check(lambda t: t.index_select(dim, gradlab.tensor(index)),
          lambda t: t.index_select(dim, torch.tensor(index)), X)
    check(lambda t: gradlab.index_select(t, dim, gradlab.tensor([1])),
          lambda t: torch.index_select(t, dim, torch.tensor([1])), X)


@pytest.mark.parametrize("value", [0.0, -1e9, float("-inf"), 2])
def test_masked_fill(value):
    mask = X[:, :1, :] > 0  # broadcasts
    check(lambda t: t.masked_fill(gradlab.tensor(mask), value),
          lambda t: t.masked_fill(torch.tensor(mask), value), X)
    check(lambda t: gradlab.masked_fill(t, gradlab.tensor(mask), value),
          lambda t: torch.masked_fill(t, torch.tensor(mask), value), X)


def test_index_select_with_0d_index_keeps_the_dimension():
    check(lambda t: t.index_select(1, gradlab.tensor(2)), lambda t: t.index_select(1, torch.tensor(2)), X)
    check(lambda t: t.index_select(0, gradlab.tensor([], dtype=gradlab.int64)),
          lambda t: t.index_select(0, torch.tensor([], dtype=torch.int64)), X)


def test_masked_fill_keeps_integer_dtype():
    x = np.array([[1, 2, 3], [4, 5, 6]])
    mask = np.array([True, False, True])
    check(lambda t: t.masked_fill(gradlab.tensor(mask), 2.7),
          lambda t: t.masked_fill(torch.tensor(mask), 2.7), x, grad=False)


def test_masked_fill_value_tensor_receives_gradient():
    mask = X > 0
    check(lambda t, v: t.masked_fill(gradlab.tensor(mask), v),
          lambda t, v: t.masked_fill(torch.tensor(mask), v), X, np.array(0.7))


def test_masked_fill_with_0d_tensor_value():
    mask = X > 0
    check(lambda t: t.masked_fill(gradlab.tensor(mask), gradlab.tensor(3.0, dtype=gradlab.float64)),
          lambda t: t.masked_fill(torch.tensor(mask), torch.tensor(3.0, dtype=torch.float64)), X)


def test_masked_fill_keeps_float32():
    x = X.astype(np.float32)
    mask = x > 0
    check(lambda t: t.masked_fill(gradlab.tensor(mask), -1e9),
          lambda t: t.masked_fill(torch.tensor(mask), -1e9), x, atol=1e-6)


@pytest.mark.parametrize("shape,num_classes", [((5,), -1), ((5,), 7), ((2, 3), 4), ((), 3), ((0,), 3)],
                         ids=str)
def test_one_hot(shape, num_classes):
    labels = np.random.default_rng(7).integers(0, 3, size=shape)
    check(lambda t: gradlab.one_hot(t, num_classes), lambda t: torch.nn.functional.one_hot(t, num_classes),
          labels, grad=False)
