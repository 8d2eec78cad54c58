"""Whole recurrent layers (one direction over a sequence) as single graph
nodes: :class:`LSTMLayer` and :class:`GRULayer`.

Fused because a graph of ~15 nodes per time step costs more in Python than
the arithmetic of a small recurrent layer. The arrays are laid out hidden
unit by batch: each step's state is an (H, N) block, and each step's gates
one product W [h_{t-1}; 1] of the weights (bias as the last column) and the
state with a row of ones, an array (G H, N) in which every gate is a
contiguous block. The matrix products run in BLAS (``numpy.matmul``), the
pointwise work of each step in one kernel (:mod:`gradlab.kernels.rnn_cell`).

The backward is backpropagation through time in closed form, step by step
for the recurrence; the products that do not depend on it (dx and the
weight gradients) are computed after the loop over all steps at once. When
the backward is itself recorded (``create_graph=True``) it differentiates
the composed form (:mod:`gradlab.nn.functional.rnn`) instead, so that
higher derivatives are right.
"""

from __future__ import annotations

from gradlab.autograd import Function, is_grad_enabled
from gradlab.backend import array_module
from gradlab.kernels.rnn_cell import (
    gru_cell_backward,
    gru_cell_forward,
    lstm_cell_backward,
    lstm_cell_forward,
)
from gradlab.nn.functional._fused import recorded_grads
from gradlab.tensor import Tensor

__all__ = ["GRULayer", "LSTMLayer"]


def _in_order(a, reverse: bool):
    return a[::-1] if reverse else a


def _time_columns(a):
    """A (T, R, N) stack of per-step blocks as one (R, T N) matrix (a copy),
    so that a sum over steps, sum_t d_t z_t^T, is one product of such
    matrices, and a product per step, d_t^T W, one product with W."""
    xp = array_module(a)
    return xp.ascontiguousarray(a.transpose(1, 0, 2)).reshape(a.shape[1], -1)


class LSTMLayer(Function):
    """One LSTM layer in one direction over a whole sequence:
    (x (T, N, F), h0 (N, H), c0 (N, H), W_ih, W_hh, b) -> (h_1..h_T (T, N, H),
    h_T, c_T), where b = b_ih + b_hh (or None) and ``reverse`` runs the
    sequence from its last step to its first. Each step's input is the column
    block z_t = [x_t; h_{t-1}; 1] (F + H + 1, N) and its gates one product
    [W_ih | W_hh | b] z_t; see the module docstring.
    """

    @staticmethod
    def forward(ctx, x: Tensor, h0: Tensor, c0: Tensor, w_ih: Tensor, w_hh: Tensor,
                bias: Tensor | None, reverse: bool = False) -> tuple:
        xp = array_module(x.array)
        steps, batch, n_in = x.shape
        n = w_hh.shape[1]
        dtype = x.dtype
        w = xp.empty((4 * n, n_in + n + 1), dtype=dtype)
        w[:, :n_in], w[:, n_in:-1] = w_ih.array, w_hh.array
        w[:, -1] = 0.0 if bias is None else bias.array
        z = xp.empty((steps + 1, n_in + n + 1, batch), dtype=dtype)
        z[:steps, :n_in] = _in_order(x.array, reverse).transpose(0, 2, 1)
        z[steps, :n_in] = 0.0
        z[:, -1] = 1.0
        z[0, n_in:-1] = h0.array.T
        gates = xp.empty((steps, 4 * n, batch), dtype=dtype)  # pre-activations, then i, f, g, o
        cs = xp.empty((steps + 1, n, batch), dtype=dtype)
        cs[0] = c0.array.T
        tcs = xp.empty((steps, n, batch), dtype=dtype)
        for t in range(steps):
            a = xp.matmul(w, z[t], out=gates[t]).reshape(4, n, batch)
            lstm_cell_forward(a, cs[t], a, cs[t + 1], tcs[t], z[t + 1, n_in:-1])
        ctx.save_for_backward(x, h0, c0, w_ih, w_hh, bias)
        ctx.reverse = reverse
        ctx.arrays = (gates, z, cs, tcs)
        # copies: the backward reads h_1..h_{T-1} from z
        hs = z[1:, n_in:-1].copy().transpose(0, 2, 1)
        return (Tensor._make(_in_order(hs, reverse)), Tensor._make(z[steps, n_in:-1].T.copy()),
                Tensor._make(cs[steps].T.copy()))

    @staticmethod
    def backward(ctx, g_hs: Tensor, g_h: Tensor, g_c: Tensor) -> tuple:
        inputs = ctx.saved_tensors
        reverse = ctx.reverse
        if is_grad_enabled():
            from gradlab.nn.functional.rnn import lstm_layer_composed
            return recorded_grads(lambda *a: lstm_layer_composed(*a, reverse), inputs,
                                   (g_hs, g_h, g_c)) + (None,)
        gates, z, cs, tcs = ctx.arrays
        x, _, _, w_ih, w_hh, bias = inputs
        need_x, need_h0, _, need_w_ih, need_w_hh, need_bias = ctx.needs_input_grad[:6]
        xp = array_module(gates)
        steps, four_n, batch = gates.shape
        n, n_in = four_n // 4, x.shape[2]
        gh = xp.ascontiguousarray(_in_order(g_hs.array, reverse).transpose(0, 2, 1))  # dL/dh_t, (T, H, N)
        gh[steps - 1] += g_h.array.T
        w_hh_t = xp.ascontiguousarray(w_hh.array.T)
        d_gates = xp.empty_like(gates)
        dh_rec = xp.zeros((n, batch), dtype=gates.dtype)  # W_hh^T dgates_{t+1}
        dc = xp.ascontiguousarray(g_c.array.T)
        dc_prev = xp.empty_like(dc)  # two buffers: a kernel writing over its input is not vectorized
        for t in range(steps - 1, -1, -1):
            d = d_gates[t].reshape(4, n, batch)
            lstm_cell_backward(gates[t].reshape(4, n, batch), cs[t], tcs[t], gh[t], dh_rec, dc, d,
                               dc_prev)
            dc, dc_prev = dc_prev, dc
            if t or need_h0:
                xp.matmul(w_hh_t, d_gates[t], out=dh_rec)
        if need_w_ih or need_w_hh or need_bias or need_x:
            d_cols = _time_columns(d_gates)  # (4H, T N)
        d_w_ih = d_w_hh = d_bias = None
        if need_w_ih or need_w_hh or need_bias:
            d_w = d_cols @ _time_columns(z[:steps]).T
            d_w_ih, d_w_hh = d_w[:, :n_in], d_w[:, n_in:-1]
            d_bias = d_w[:, -1] if bias is not None else None
        d_x = None
        if need_x:  # dx_t = dgates_t^T W_ih for all steps: rows (t, sample)
            d_x = (d_cols.T @ w_ih.array).reshape(steps, batch, n_in)
            d_x = Tensor._make(_in_order(d_x, reverse))
        d_h0 = Tensor._make(dh_rec.T.copy()) if need_h0 else None
        return (d_x, d_h0, Tensor._make(dc.T.copy()),
                *(None if g is None else Tensor._make(g) for g in (d_w_ih, d_w_hh, d_bias)), None)


class GRULayer(Function):
    """One GRU layer in one direction over a whole sequence:
    (x (T, N, F), h0 (N, H), W_ih, W_hh, b_ih, b_hh) -> (h_1..h_T (T, N, H),
    h_T). The input projections W_ih x_t + b_ih of all steps are one product
    before the loop; each step then makes hg_t = [W_hh | b_hh] [h_{t-1}; 1]
    and the pointwise step (see :mod:`gradlab.kernels.rnn_cell`).
    """

    @staticmethod
    def forward(ctx, x: Tensor, h0: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None,
                b_hh: Tensor | None, reverse: bool = False) -> tuple:
        xp = array_module(x.array)
        steps, batch, n_in = x.shape
        n = w_hh.shape[1]
        dtype = x.dtype
        xg = x.array.reshape(-1, n_in) @ w_ih.array.T  # (T N, 3H), rows (t, sample)
        if b_ih is not None:
            xg += b_ih.array
        xg = _in_order(xg.reshape(steps, batch, 3 * n), reverse)
        w = xp.empty((3 * n, n + 1), dtype=dtype)
        w[:, :n] = w_hh.array
        w[:, n] = 0.0 if b_hh is None else b_hh.array
        hz = xp.empty((steps + 1, n + 1, batch), dtype=dtype)  # [h_t; 1]
        hz[:, n] = 1.0
        hz[0, :n] = h0.array.T
        hg = xp.empty((steps, 3 * n, batch), dtype=dtype)
        gates = xp.empty((steps, 3, n, batch), dtype=dtype)
        for t in range(steps):
            xp.matmul(w, hz[t], out=hg[t])
            step_x = xg[t].reshape(batch, 3, n).transpose(1, 2, 0)
            gru_cell_forward(step_x, hg[t].reshape(3, n, batch), hz[t, :n], gates[t], hz[t + 1, :n])
        ctx.save_for_backward(x, h0, w_ih, w_hh, b_ih, b_hh)
        ctx.reverse = reverse
        ctx.arrays = (hg, hz, gates)
        hs = hz[1:, :n].copy().transpose(0, 2, 1)
        return Tensor._make(_in_order(hs, reverse)), Tensor._make(hz[steps, :n].T.copy())

    @staticmethod
    def backward(ctx, g_hs: Tensor, g_h: Tensor) -> tuple:
        inputs = ctx.saved_tensors
        reverse = ctx.reverse
        if is_grad_enabled():
            from gradlab.nn.functional.rnn import gru_layer_composed
            return recorded_grads(lambda *a: gru_layer_composed(*a, reverse), inputs, (g_hs, g_h)) + (None,)
        hg, hz, gates = ctx.arrays
        x, _, w_ih, w_hh, b_ih, b_hh = inputs
        need_x, need_h0, need_w_ih, need_w_hh, need_b_ih, need_b_hh = ctx.needs_input_grad[:6]
        xp = array_module(hg)
        steps, three_n, batch = hg.shape
        n = three_n // 3
        gh = xp.ascontiguousarray(_in_order(g_hs.array, reverse).transpose(0, 2, 1))
        gh[steps - 1] += g_h.array.T
        w_hh_t = xp.ascontiguousarray(w_hh.array.T)
        d_xg = xp.empty((steps, 3, n, batch), dtype=hg.dtype)
        d_hg = xp.empty((steps, 3 * n, batch), dtype=hg.dtype)
        dh_rec = xp.zeros((n, batch), dtype=hg.dtype)
        direct = xp.empty((n, batch), dtype=hg.dtype)
        for t in range(steps - 1, -1, -1):
            gru_cell_backward(gates[t], hg[t].reshape(3, n, batch), hz[t, :n], gh[t], dh_rec, d_xg[t],
                              d_hg[t].reshape(3, n, batch), direct)
            if t or need_h0:
                xp.matmul(w_hh_t, d_hg[t], out=dh_rec)
                dh_rec += direct
        grads = {}
        if need_w_hh or need_b_hh:
            d_w = _time_columns(d_hg) @ _time_columns(hz[:steps]).T
            grads["w_hh"], grads["b_hh"] = d_w[:, :n], d_w[:, n]
        if need_w_ih or need_b_ih or need_x:
            d_x_cols = _time_columns(d_xg.reshape(steps, three_n, batch))  # (3H, T N)
        if need_w_ih:  # sum_t dxg_t x_t^T, with x's rows (t, sample) as they are
            grads["w_ih"] = d_x_cols @ _in_order(x.array, reverse).reshape(-1, x.shape[2])
        if need_b_ih:
            grads["b_ih"] = d_x_cols.sum(axis=1)
        d_x = None
        if need_x:
            d_x = (d_x_cols.T @ w_ih.array).reshape(steps, batch, x.shape[2])
            d_x = Tensor._make(_in_order(d_x, reverse))
        out = [grads.get(k) for k in ("w_ih", "w_hh", "b_ih", "b_hh")]
        d_h0 = Tensor._make(dh_rec.T.copy()) if need_h0 else None
        return (d_x, d_h0,
                *(None if g is None else Tensor._make(g) for g in out), None)


