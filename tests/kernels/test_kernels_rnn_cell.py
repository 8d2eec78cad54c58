"""LSTM and GRU step kernels against their NumPy references, on the
(G, H, N) gate blocks of both the layer layout and the cell layout."""

from __future__ import annotations

import numpy as np
import pytest
from kernel_layouts import DTYPES, LAYOUTS, close, random

from gradlab.kernels import rnn_cell


def _run(kernel, *arrays, outs):
    results = [np.empty(shape, dtype=arrays[0].dtype) for shape in outs]
    kernel(*arrays, *results)
    return results


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_lstm_cell_matches_reference(dtype, layout):
    a = random((4, 5, 3), dtype, layout, scale=2.0)
    c = random((5, 3), dtype, layout, seed=1)
    gates, c2, tc, h = _run(rnn_cell.lstm_cell_forward_kernel, a, c,
                            outs=[(4, 5, 3), (5, 3), (5, 3), (5, 3)])
    for got, want in zip((gates, c2, tc, h), rnn_cell.lstm_cell_forward(a, c)):
        close(got, want, dtype)
    dh, more, dc = (random((5, 3), dtype, layout, seed=s) for s in (2, 3, 4))
    d, dc_prev = _run(rnn_cell.lstm_cell_backward_kernel, gates, c, tc, dh, more, dc,
                      outs=[(4, 5, 3), (5, 3)])
    for got, want in zip((d, dc_prev), rnn_cell.lstm_cell_backward(gates, c, tc, dh + more, dc)):
        close(got, want, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_gru_cell_matches_reference(dtype, layout):
    xg = rnn_cell.stacked(random((3, 15), dtype, layout, scale=2.0), 3)  # the cell layout (N, 3H)
    hg = random((3, 5, 3), dtype, layout, seed=1)
    h = random((5, 3), dtype, layout, seed=2)
    gates, h2 = _run(rnn_cell.gru_cell_forward_kernel, xg, hg, h, outs=[(3, 5, 3), (5, 3)])
    for got, want in zip((gates, h2), rnn_cell.gru_cell_forward(xg, hg, h)):
        close(got, want, dtype)
    dh, more = random((5, 3), dtype, layout, seed=3), random((5, 3), dtype, layout, seed=4)
    got = _run(rnn_cell.gru_cell_backward_kernel, gates, hg, h, dh, more, outs=[(3, 5, 3)] * 2 + [(5, 3)])
    for a, b in zip(got, rnn_cell.gru_cell_backward(gates, hg, h, dh + more)):
        close(a, b, dtype)
