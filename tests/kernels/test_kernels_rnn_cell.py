"""LSTM and GRU step kernels against their NumPy references, on the
(G, H, N) gate blocks of both the layer layout and the cell layout."""

from __future__ import annotations

import numpy as np
import pytest
from kernel_layouts import DTYPES, LAYOUTS, close, random

from gradlab.kernels import rnn_cell

pytestmark = pytest.mark.usefixtures("compilation")  # serial and parallel compilations


def _on_flat_blocks(kernel):
    """A kernel called on the flat blocks of C-ordered copies of its
    arguments, the copies written back (the outputs are C-ordered already)."""
    def step(*arrays):
        ordered = [np.ascontiguousarray(a) for a in arrays]
        kernel(*rnn_cell.flat_blocks(*ordered))
        for given, used in zip(arrays, ordered):
            if used is not given:
                given[...] = used
    return step


def _run(step, *arrays, outs):
    results = [np.empty(shape, dtype=arrays[0].dtype) for shape in outs]
    step(*arrays, *results)
    return results


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_lstm_cell_matches_reference(dtype, layout):
    a = random((4, 5, 3), dtype, layout, scale=2.0)
    c = random((5, 3), dtype, layout, seed=1)
    want = rnn_cell.lstm_cell_forward_reference(a, c)
    gates, c2, tc, h = _run(rnn_cell.lstm_cell_forward, a, c, outs=[(4, 5, 3), (5, 3), (5, 3), (5, 3)])
    for got, expected in zip((gates, c2, tc, h), want):
        close(got, expected, dtype)
    kernel_gates, kernel_c = _run(_on_flat_blocks(rnn_cell.lstm_cell_forward_kernel), np.exp(-a),
                                  np.tanh(a[2]), c, outs=[(4, 5, 3), (5, 3)])
    close(kernel_gates, want[0], dtype)
    close(kernel_c, want[1], dtype)
    dh, more, dc = (random((5, 3), dtype, layout, seed=s) for s in (2, 3, 4))
    d, dc_prev = _run(rnn_cell.lstm_cell_backward, gates, c, tc, dh, more, dc,
                      outs=[(4, 5, 3), (5, 3)])
    for got, want in zip((d, dc_prev), rnn_cell.lstm_cell_backward_reference(gates, c, tc, dh + more, dc)):
        close(got, want, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_lstm_cell_kernel_path_gives_the_bits_of_the_numpy_passes(dtype):
    """The C-ordered blocks take the kernel, others NumPy passes of the same
    IEEE operations: a layer's step and a cell's step agree exactly."""
    a = random((4, 6, 5), dtype, "C", scale=30.0)  # saturated gates, exp(-a) overflowing to inf
    c = random((6, 5), dtype, "C", seed=1)
    outs = [(4, 6, 5), (6, 5), (6, 5), (6, 5)]
    by_kernel = _run(rnn_cell.lstm_cell_forward, a, c, outs=outs)
    by_passes = _run(rnn_cell.lstm_cell_forward, np.asfortranarray(a), np.asfortranarray(c), outs=outs)
    for got, want in zip(by_kernel, by_passes):
        np.testing.assert_array_equal(got, want)
    sigmoids = by_kernel[0][[0, 1, 3]]
    assert np.all((sigmoids >= 0) & (sigmoids <= 1))  # no nan where exp(-a) is inf


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_gru_cell_matches_reference(dtype, layout):
    xg = rnn_cell.stacked(random((3, 15), dtype, layout, scale=2.0), 3)  # the cell layout (N, 3H)
    hg = random((3, 5, 3), dtype, layout, seed=1)
    h = random((5, 3), dtype, layout, seed=2)
    want = rnn_cell.gru_cell_forward_reference(xg, hg, h)
    for step in (_on_flat_blocks(rnn_cell.gru_cell_forward_kernel), rnn_cell.gru_cell_forward):
        gates, h2 = _run(step, xg, hg, h, outs=[(3, 5, 3), (5, 3)])
        for got, expected in zip((gates, h2), want):
            close(got, expected, dtype)
    dh, more = random((5, 3), dtype, layout, seed=3), random((5, 3), dtype, layout, seed=4)
    got = _run(rnn_cell.gru_cell_backward, gates, hg, h, dh, more, outs=[(3, 5, 3)] * 2 + [(5, 3)])
    for a, b in zip(got, rnn_cell.gru_cell_backward_reference(gates, hg, h, dh + more)):
        close(a, b, dtype)


def test_flat_blocks_only_for_c_ordered_float_arrays():
    gates, state = np.zeros((4, 5, 3)), np.zeros((5, 3))
    flat = rnn_cell.flat_blocks(gates, state)
    assert [f.shape for f in flat] == [(4, 15), (15,)]
    assert all(np.shares_memory(f, a) for f, a in zip(flat, (gates, state)))
    assert rnn_cell.flat_blocks(gates, state.T.copy().T) is None      # Fortran order
    assert rnn_cell.flat_blocks(gates, state.astype(np.float16)) is None
