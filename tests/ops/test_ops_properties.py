"""Property tests (hypothesis): for random broadcast-compatible shapes the
gradient of each input has that input's shape and equals PyTorch's, and a
reduction over random dims gives PyTorch's shape and values."""

import warnings

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import gradlab
from helpers import check

SETTINGS = settings(max_examples=40, deadline=None)
BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
}


@SETTINGS
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, min_side=0,
                                                 max_side=3),
       op=st.sampled_from(sorted(BINARY)), seed=st.integers(0, 2**16))
def test_broadcast_gradients_have_input_shapes_and_match_torch(shapes, op, seed):
    rng = np.random.default_rng(seed)
    a, b = (rng.standard_normal(s) for s in shapes.input_shapes)
    fn = BINARY[op]
    ga = gradlab.tensor(a, requires_grad=True)
    gb = gradlab.tensor(b, requires_grad=True)
    fn(ga, gb).sum().backward()
    assert ga.grad.shape == a.shape and gb.grad.shape == b.shape
    assert fn(ga, gb).shape == shapes.result_shape
    check(lambda x, y: fn(x, y).sum(), lambda x, y: fn(x, y).sum(), a, b)
    check(fn, fn, a, b)  # with a random upstream gradient, not only ones


@SETTINGS
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=3),
       seed=st.integers(0, 2**16))
def test_broadcast_division_and_maximum_gradients(shapes, seed):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shapes.input_shapes[0])
    b = np.asarray(np.abs(rng.standard_normal(shapes.input_shapes[1])) + 0.5)
    check(lambda x, y: x / y, lambda x, y: x / y, a, b)
    check(gradlab.maximum, torch.maximum, a, np.asarray(b - 1.0))


@st.composite
def _reduction_case(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4))
    ndim = len(shape)
    dim = draw(st.one_of(
        st.integers(-ndim, ndim - 1),
        st.lists(st.integers(-ndim, ndim - 1), min_size=1, max_size=ndim,
                 unique_by=lambda d: d % ndim).map(tuple),
    ))
    return shape, dim


@SETTINGS
@given(case=_reduction_case(), keepdim=st.booleans(),
       name=st.sampled_from(["sum", "mean", "amax", "amin", "logsumexp", "var", "std"]),
       seed=st.integers(0, 2**16))
def test_reductions_over_random_dims(case, keepdim, name, seed):
    shape, dim = case
    x = np.random.default_rng(seed).standard_normal(shape)
    out = getattr(gradlab.tensor(x), name)(dim=dim, keepdim=keepdim)
    with warnings.catch_warnings():  # var of one element per group warns in PyTorch
        warnings.simplefilter("ignore")
        expected = getattr(torch.tensor(x), name)(dim=dim, keepdim=keepdim)
    assert out.shape == tuple(expected.shape)
    if name in ("var", "std") and any(np.isnan(expected.numpy().ravel())):
        return  # one element per group: 0 / 0, checked elsewhere
    check(lambda t: getattr(t, name)(dim=dim, keepdim=keepdim),
          lambda t: getattr(t, name)(dim=dim, keepdim=keepdim), x)


@SETTINGS
@given(shape=hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4), data=st.data())
def test_max_min_along_a_random_dim_with_ties(shape, data):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    # small integers make ties frequent
    x = data.draw(hnp.arrays(np.float64, shape, elements=st.integers(-2, 2).map(float)))
    for name in ("max", "min"):
        check(lambda t, n=name: tuple(getattr(t, n)(dim)), lambda t, n=name: tuple(getattr(t, n)(dim)), x)
    check(lambda t: t.amax(dim), lambda t: t.amax(dim), x)
    check(lambda t: t.argmax(dim), lambda t: t.argmax(dim), x, grad=False)


@SETTINGS
@given(shape=hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4), data=st.data())
def test_softmax_rows_sum_to_one_and_match_torch(shape, data):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = data.draw(hnp.arrays(np.float64, shape, elements=st.floats(-1e4, 1e4)))
    y = gradlab.tensor(x).softmax(dim)
    np.testing.assert_allclose(y.sum(dim).numpy(), 1.0, rtol=1e-12)
    check(lambda t: t.softmax(dim), lambda t: t.softmax(dim), x, atol=1e-9)
    check(lambda t: t.log_softmax(dim), lambda t: t.log_softmax(dim), x, atol=1e-9)


@st.composite
def _index(draw):
    """A random index into a (3, 4, 5) tensor mixing ints, slices, None, an
    Ellipsis, integer lists (with repeats and negatives) and boolean masks."""
    shape = (3, 4, 5)
    items, dim = [], 0
    use_ellipsis = draw(st.booleans())
    while dim < len(shape):
        size = shape[dim]
        kind = draw(st.sampled_from(["int", "slice", "none", "list", "mask", "stop"]))
        if kind == "stop":
            break
        if kind == "none":
            items.append(None)
            continue
        if kind == "int":
            items.append(draw(st.integers(-size, size - 1)))
        elif kind == "slice":
            start = draw(st.one_of(st.none(), st.integers(-size, size)))
            stop = draw(st.one_of(st.none(), st.integers(-size, size)))
            items.append(slice(start, stop, draw(st.integers(1, 3))))
        elif kind == "list":
            items.append(draw(st.lists(st.integers(-size, size - 1), min_size=1, max_size=4)))
        else:
            items.append(np.array(draw(st.lists(st.booleans(), min_size=size, max_size=size))))
        dim += 1
    if use_ellipsis:
        items.insert(draw(st.integers(0, len(items))), Ellipsis)
    return tuple(items)


def _lists_as_index_tensors(index, lib):
    """Lists and masks as index tensors, the form both libraries agree on
    (PyTorch reads a nested list differently from NumPy)."""
    return tuple(lib.tensor(i) if isinstance(i, (list, np.ndarray)) else i for i in index)


@SETTINGS
@given(index=_index())
def test_random_mixed_indexing_matches_torch(index):
    x = np.random.default_rng(0).standard_normal((3, 4, 5))
    try:
        expected = torch.tensor(x)[_lists_as_index_tensors(index, torch)]
    except (IndexError, RuntimeError, ValueError):
        return  # e.g. masks and lists of different lengths: not broadcastable
    assert gradlab.tensor(x)[_lists_as_index_tensors(index, gradlab)].shape == tuple(expected.shape)
    check(lambda t: t[_lists_as_index_tensors(index, gradlab)],
          lambda t: t[_lists_as_index_tensors(index, torch)], x)
