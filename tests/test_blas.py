"""gradlab._blas: products added in place through NumPy's own CBLAS."""

from __future__ import annotations

import numpy as np
import pytest

from gradlab import _blas


def _stacks(dtype, rng, k=4, m=3, p=5, n=6):
    lhs = rng.standard_normal((k, m, p)).astype(dtype)
    rhs = rng.standard_normal((p, n)).astype(dtype)
    out = rng.standard_normal((k + 1, m, n)).astype(dtype)
    return lhs, rhs, out


@pytest.mark.parametrize("dtype, tol", [(np.float32, 1e-5), (np.float64, 1e-13)])
def test_matmul_into_adds_the_product_at_the_chosen_slices(dtype, tol):
    rng = np.random.default_rng(0)
    lhs, rhs, out = _stacks(dtype, rng)
    expected = out.copy()
    step = _blas.MatmulInto(lhs, rhs, out)
    assert (step._gemm is not None) == (_blas.numpy_cblas(np.dtype(dtype)) is not None)
    for i, j in ((0, 4), (3, 1), (3, 1), (2, 0)):
        step(i, j)
        expected[j] += lhs[i] @ rhs
    np.testing.assert_allclose(out, expected, rtol=tol, atol=tol)


def test_numpy_uses_its_cblas_here():
    """This project's machines run NumPy's wheels, whose OpenBLAS exports
    CBLAS: the fast path must really be available, not silently skipped."""
    assert _blas.numpy_cblas(np.dtype(np.float32)) is not None


@pytest.mark.parametrize("case", ["strided", "int", "mixed", "no cblas"])
def test_matmul_into_falls_back_to_array_expressions(case, monkeypatch):
    rng = np.random.default_rng(1)
    lhs, rhs, out = _stacks(np.float64, rng)
    if case == "strided":
        rhs = np.asfortranarray(rhs)
    elif case == "int":
        lhs, rhs, out = (a.round().astype(np.int64) for a in (lhs, rhs, out))
    elif case == "mixed":
        rhs = rhs.astype(np.float32)
    else:
        monkeypatch.setattr(_blas, "_numpy_kernels", {})
    expected = out.copy()
    step = _blas.MatmulInto(lhs, rhs, out)
    assert step._gemm is None
    step(1, 2)
    expected[2] += lhs[1] @ rhs
    np.testing.assert_allclose(out, expected, rtol=1e-6 if case == "mixed" else 1e-13)


def test_matmul_into_rejects_shapes_that_do_not_fit():
    lhs, rhs, out = _stacks(np.float64, np.random.default_rng(3))
    with pytest.raises(ValueError, match=r"shapes \(4, 3, 5\) @ \(6, 6\) do not fit into \(5, 3, 6\)"):
        _blas.MatmulInto(lhs, np.zeros((6, 6)), out)


def test_matmul_into_rejects_indices_outside_the_stacks():
    """An address past the end would write outside the array: refused."""
    lhs, rhs, out = _stacks(np.float64, np.random.default_rng(4))
    step = _blas.MatmulInto(lhs, rhs, out)
    with pytest.raises(IndexError, match=r"index \(4, 0\) outside stacks of 4 and 5"):
        step(4, 0)
    with pytest.raises(IndexError, match=r"index \(0, -1\)"):
        step(0, -1)


@pytest.mark.parametrize("dtype, tol", [(np.float32, 1e-5), (np.float64, 1e-13)])
@pytest.mark.parametrize("accumulate", [True, False])
def test_matmul_into_with_the_stack_on_the_right(dtype, tol, accumulate):
    """out[j] = lhs @ rhs[i] (an LSTM step's gates W z_t), overwriting or adding."""
    rng = np.random.default_rng(5)
    lhs = rng.standard_normal((3, 5)).astype(dtype)
    rhs = rng.standard_normal((4, 5, 6)).astype(dtype)
    out = rng.standard_normal((2, 3, 6)).astype(dtype)
    expected = out.copy()
    step = _blas.MatmulInto(lhs, rhs, out, accumulate=accumulate)
    assert step._gemm is not None
    for i, j in ((3, 0), (1, 1), (2, 1)):
        step(i, j)
        expected[j] = expected[j] + lhs @ rhs[i] if accumulate else lhs @ rhs[i]
    np.testing.assert_allclose(out, expected, rtol=tol, atol=tol)


def test_matmul_into_writes_a_block_of_a_wider_stack():
    """Rows 2..5 and columns 1..6 of each (8, 9) matrix: BLAS addresses them
    with a leading dimension and leaves the rest as it was."""
    rng = np.random.default_rng(6)
    lhs, rhs = rng.standard_normal((4, 3)), rng.standard_normal((5, 3, 6))
    whole = rng.standard_normal((5, 8, 9))
    expected = whole.copy()
    step = _blas.MatmulInto(lhs, rhs, whole[:, 2:6, 1:7])
    assert step._gemm is not None
    for t in range(5):
        step(t, 4 - t)
        expected[4 - t, 2:6, 1:7] += lhs @ rhs[t]
    np.testing.assert_allclose(whole, expected, rtol=1e-13, atol=1e-13)


def test_matmul_into_takes_the_same_entry_of_two_stacks():
    rng = np.random.default_rng(7)
    lhs, rhs, out = rng.standard_normal((3, 2, 4)), rng.standard_normal((3, 4, 5)), np.zeros((3, 2, 5))
    step = _blas.MatmulInto(lhs, rhs, out, accumulate=False)
    step(2, 0)
    np.testing.assert_allclose(out[0], lhs[2] @ rhs[2], rtol=1e-13)
    with pytest.raises(ValueError, match="do not fit"):
        _blas.MatmulInto(lhs, rhs[:2], out)


def test_matmul_into_falls_back_for_reversed_rows():
    """A negative row stride has no BLAS leading dimension: array expressions."""
    rng = np.random.default_rng(8)
    lhs, rhs, out = rng.standard_normal((4, 3))[::-1], rng.standard_normal((2, 3, 5)), np.zeros((1, 4, 5))
    step = _blas.MatmulInto(lhs, rhs, out, accumulate=False)
    assert step._gemm is None
    step(1, 0)
    np.testing.assert_allclose(out[0], lhs @ rhs[1], rtol=1e-13)
