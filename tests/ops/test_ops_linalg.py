"""Matrix products against PyTorch: every combination of 1-D, 2-D and
batched operands (with broadcasting batch dimensions), mm/bmm/dot/outer,
empty inner and outer sizes."""

import numpy as np
import pytest
import torch

import gradlab
from helpers import check, randn

MATMUL_SHAPES = [
    ((4,), (4,)),
    ((4,), (4, 3)),
    ((3, 4), (4,)),
    ((3, 4), (4, 2)),
    ((2, 3, 4), (4,)),
    ((4,), (2, 4, 3)),
    ((2, 3, 4), (4, 5)),
    ((3, 4), (2, 4, 5)),
    ((2, 3, 4), (2, 4, 5)),
    ((2, 1, 3, 4), (5, 4, 2)),
    ((1, 3, 4), (6, 4, 2)),
    ((6, 1, 1, 4), (1, 3, 4, 2)),
    ((0, 4), (4, 3)),
    ((3, 0), (0, 2)),
    ((2, 0, 3, 4), (4, 1)),
    ((1, 4), (4, 1)),
]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul(shapes):
    a, b = randn(*shapes[0], seed=1), randn(*shapes[1], seed=2)
    check(lambda x, y: x @ y, lambda x, y: x @ y, a, b)
    check(gradlab.matmul, torch.matmul, a, b)
    check(lambda x, y: x.matmul(y), lambda x, y: x.matmul(y), a, b)


def test_batched_times_matrix_is_one_product_with_the_same_numbers():
    # the stacked-rows path: strided and 4-D left operands, both gradients
    a, b = randn(5, 2, 3, 4, seed=21), randn(4, 6, seed=22)
    check(lambda x, y: x.transpose(0, 2) @ y, lambda x, y: x.transpose(0, 2) @ y, a, b)
    check(lambda x, y: x @ y, lambda x, y: x @ y, a, b)
    check(lambda y: gradlab.tensor(a) @ y, lambda y: torch.tensor(a) @ y, b)


def test_gradient_of_few_rows_over_a_long_contraction():
    """dL/dA for A (3, 5) @ B (5, 40), a weight gradient's shape: the same
    numbers as PyTorch."""
    a, b = randn(3, 5, seed=23), randn(5, 40, seed=24)
    check(lambda x, y: x @ y, lambda x, y: x @ y, a, b)
    check(lambda x, y: x @ y, lambda x, y: x @ y, a.astype(np.float32), b.astype(np.float32),
          atol=1e-4, rtol=1e-5)


def test_matmul_with_only_one_side_requiring_grad():
    a, b = randn(2, 3, seed=3), randn(3, 4, seed=4)
    check(lambda x: x @ gradlab.tensor(b), lambda x: x @ torch.tensor(b), a)
    check(lambda y: gradlab.tensor(a) @ y, lambda y: torch.tensor(a) @ y, b)


def test_reflected_matmul_with_numpy_array():
    m = randn(2, 3, seed=5)
    check(lambda t: m @ t, lambda t: torch.from_numpy(m) @ t, randn(3, 4, seed=6))
    check(lambda t: m @ t, lambda t: torch.from_numpy(m) @ t, randn(3, seed=7))


def test_matmul_float32():
    a = randn(2, 1, 3, 4, seed=8).astype(np.float32)
    b = randn(5, 4, 2, seed=9).astype(np.float32)
    check(lambda x, y: x @ y, lambda x, y: x @ y, a, b, atol=1e-5, rtol=1e-5)


def test_mm_bmm_dot_outer():
    a, b = randn(3, 4, seed=10), randn(4, 2, seed=11)
    check(gradlab.mm, torch.mm, a, b)
    check(lambda x, y: x.mm(y), lambda x, y: x.mm(y), a, b)
    a3, b3 = randn(2, 3, 4, seed=12), randn(2, 4, 5, seed=13)
    check(gradlab.bmm, torch.bmm, a3, b3)
    check(lambda x, y: x.bmm(y), lambda x, y: x.bmm(y), a3, b3)
    u, v = randn(4, seed=14), randn(4, seed=15)
    check(gradlab.dot, torch.dot, u, v)
    check(lambda x, y: x.dot(y), lambda x, y: x.dot(y), u, v)
    w = randn(3, seed=16)
    check(gradlab.outer, torch.outer, u, w)
    check(lambda x, y: x.outer(y), lambda x, y: x.outer(y), u, w)


def test_dot_of_empty_vectors_is_zero():
    check(gradlab.dot, torch.dot, np.zeros(0), np.zeros(0))


@pytest.mark.parametrize("fn,shapes", [
    (gradlab.mm, ((3, 4), (4,))),
    (gradlab.mm, ((2, 3, 4), (4, 2))),
    (gradlab.bmm, ((3, 4), (4, 2))),
    (gradlab.bmm, ((2, 3, 4), (3, 4, 2))),
    (gradlab.dot, ((3,), (4,))),
    (gradlab.dot, ((3, 1), (3,))),
    (gradlab.matmul, ((3, 4), (3, 4))),
    (gradlab.matmul, ((4,), (3,))),
    (gradlab.matmul, ((2, 3, 4), (3, 4, 2))),
], ids=str)
def test_product_shape_errors_name_both_shapes(fn, shapes):
    a, b = gradlab.zeros(*shapes[0]), gradlab.zeros(*shapes[1])
    with pytest.raises(RuntimeError) as err:
        fn(a, b)
    message = str(err.value)
    assert str(shapes[0]) in message and str(shapes[1]) in message, message


def test_matmul_of_0d_raises():
    with pytest.raises(RuntimeError, match="at least 1 dimension"):
        gradlab.tensor(2.0) @ gradlab.ones(3)
