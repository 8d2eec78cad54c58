"""The pointwise part of one LSTM or GRU time step, forward and backward.

The matrix products (W_ih x + b_ih, W_hh h + b_hh) stay in BLAS; these
kernels do everything between them. Gate blocks are passed as arrays of
shape (G, H, N) (G gates of H units for N samples), a view of either the
(G H, N) layout of :class:`gradlab.nn.functional.rnn_layer.LSTMLayer` or
the (N, G H) layout of a cell. The kernels walk the C-contiguous layer
layout as flat blocks (G, H N), one loop LLVM vectorizes (3.6x faster than
a loop over H and N on the LSTM benchmark's step); other layouts take the
NumPy reference. The Elman RNN step is one activation (see
:mod:`gradlab.kernels.activation`).

LSTM (Hochreiter and Schmidhuber 1997; forget gate of Gers et al. 2000),
from pre-activations a = [a_i, a_f, a_g, a_o]:

    i, f, o = sigma(a_i), sigma(a_f), sigma(a_o),  g = tanh(a_g)
    c' = f c + i g,   h' = o tanh(c')
    dc = dc' + dh' o (1 - tanh(c')^2),   dc_prev = dc f
    da_i = dc g i (1 - i),  da_f = dc c f (1 - f),  da_g = dc i (1 - g^2),
    da_o = dh' tanh(c') o (1 - o)

GRU (Cho et al. 2014, PyTorch's variant with r applied to W_hn h + b_hn),
from x-parts xg = [x_r, x_z, x_n] and h-parts hg = [h_r, h_z, h_n]:

    r = sigma(x_r + h_r),  z = sigma(x_z + h_z),  n = tanh(x_n + r h_n)
    h' = (1 - z) n + z h
    dn_pre = dh' (1 - z) (1 - n^2),   dz_pre = dh' (h - n) z (1 - z),
    dr_pre = dn_pre h_n r (1 - r)
    d xg = [dr_pre, dz_pre, dn_pre],  d hg = [dr_pre, dz_pre, dn_pre r],  dh (direct) = dh' z
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gradlab.backend import array_module
from gradlab.kernels._jit import cpu_kernel, prange
from gradlab.kernels._layout import takes
from gradlab.kernels._scalar import sigmoid as _sigmoid

__all__ = [
    "gru_cell_backward", "gru_cell_backward_reference", "gru_cell_forward", "gru_cell_forward_kernel",
    "gru_cell_forward_reference", "lstm_cell_backward", "lstm_cell_backward_reference", "lstm_cell_forward",
    "lstm_cell_forward_kernel", "lstm_cell_forward_reference", "flat_blocks", "stacked",
]




@cpu_kernel
def lstm_cell_forward_kernel(exp_neg_a, g, c_prev, gates, c):  # pragma: no cover - compiled
    """The LSTM step between its transcendental functions, over flat blocks:
    from e = exp(-a) (4, M) and g = tanh(a_g) (M,), the gates sigma(a) =
    1 / (1 + e) and g into ``gates`` (4, M), and c' = f c + i g into ``c``.
    NumPy computes e, g and tanh(c') (see :func:`lstm_cell_forward`)."""
    one = c.dtype.type(1.0)  # a float literal would promote float32 arithmetic to float64
    for k in prange(c_prev.size):
        i = one / (one + exp_neg_a[0, k])
        f = one / (one + exp_neg_a[1, k])
        o = one / (one + exp_neg_a[3, k])
        gates[0, k], gates[1, k], gates[2, k], gates[3, k] = i, f, g[k], o
        c[k] = f * c_prev[k] + i * g[k]


@cpu_kernel
def lstm_cell_backward_kernel(gates, c_prev, tanh_c, dh, dh_more, dc_next, d_gates,
                              dc_prev):  # pragma: no cover - compiled
    """The LSTM step's backward over flat blocks: ``gates``, ``d_gates`` (4,
    M), the rest (M,)."""
    one = gates.dtype.type(1.0)  # a float literal would promote float32 arithmetic to float64
    for k in prange(c_prev.size):
        i, f, g, o = gates[0, k], gates[1, k], gates[2, k], gates[3, k]
        t = tanh_c[k]
        d_h = dh[k] + dh_more[k]
        dc = dc_next[k] + d_h * o * (one - t * t)
        d_gates[0, k] = dc * g * i * (one - i)
        d_gates[1, k] = dc * c_prev[k] * f * (one - f)
        d_gates[2, k] = dc * i * (one - g * g)
        d_gates[3, k] = d_h * t * o * (one - o)
        dc_prev[k] = dc * f


@cpu_kernel
def gru_cell_forward_kernel(xg, hg, h_prev, gates, h):  # pragma: no cover - compiled
    """The GRU step over flat blocks: ``xg``, ``hg``, ``gates`` (3, M), the
    rest (M,)."""
    for k in prange(h_prev.size):
        r = _sigmoid(xg[0, k] + hg[0, k])
        z = _sigmoid(xg[1, k] + hg[1, k])
        n = math.tanh(xg[2, k] + r * hg[2, k])
        gates[0, k], gates[1, k], gates[2, k] = r, z, n
        h[k] = n + z * (h_prev[k] - n)


@cpu_kernel
def gru_cell_backward_kernel(gates, hg, h_prev, dh, dh_more, d_xg, d_hg,
                             dh_prev):  # pragma: no cover - compiled
    """The GRU step's backward over flat blocks: ``gates``, ``hg``, ``d_xg``,
    ``d_hg`` (3, M), the rest (M,)."""
    one = gates.dtype.type(1.0)  # a float literal would promote float32 arithmetic to float64
    for k in prange(h_prev.size):
        r, z, n = gates[0, k], gates[1, k], gates[2, k]
        d_h = dh[k] + dh_more[k]
        dn = d_h * (one - z) * (one - n * n)
        dz = d_h * (h_prev[k] - n) * z * (one - z)
        dr = dn * hg[2, k] * r * (one - r)
        d_xg[0, k], d_xg[1, k], d_xg[2, k] = dr, dz, dn
        d_hg[0, k], d_hg[1, k], d_hg[2, k] = dr, dz, dn * r
        dh_prev[k] = d_h * z


def flat_blocks(*arrays: Any) -> tuple | None:
    """The step's arrays as the flat blocks the kernels take, (G, H, N) as
    (G, H N) and (H, N) as (H N,), all views; None unless every array is a
    C-contiguous NumPy array of one float dtype (the reference takes the
    rest, e.g. the transposed gate blocks of a cell)."""
    if not takes(*arrays) or not all(a.flags.c_contiguous for a in arrays):
        return None
    return tuple(a.reshape(a.shape[0], -1) if a.ndim == 3 else a.reshape(-1) for a in arrays)


def _sigmoid_reference(xp: Any, v: Any) -> Any:
    return 1.0 / (1.0 + xp.exp(-v))


def lstm_cell_forward_reference(a: Any, c_prev: Any) -> tuple[Any, Any, Any, Any]:
    """NumPy reference of the LSTM step: (gates (4, H, N), c', tanh(c'), h')
    from pre-activations a (4, H, N) and c (H, N)."""
    xp = array_module(a)
    i, f, o = (_sigmoid_reference(xp, a[k]) for k in (0, 1, 3))
    g = xp.tanh(a[2])
    c = f * c_prev + i * g
    tanh_c = xp.tanh(c)
    return xp.stack([i, f, g, o]), c, tanh_c, o * tanh_c


def lstm_cell_backward_reference(gates: Any, c_prev: Any, tanh_c: Any, dh: Any, dc_next: Any) -> tuple:
    """NumPy reference of the LSTM step's backward: (d a (4, H, N), dc_prev)."""
    xp = array_module(gates)
    i, f, g, o = gates
    dc = dc_next + dh * o * (1.0 - tanh_c * tanh_c)
    d = xp.stack([dc * g * i * (1.0 - i), dc * c_prev * f * (1.0 - f), dc * i * (1.0 - g * g),
                  dh * tanh_c * o * (1.0 - o)])
    return d, dc * f


def gru_cell_forward_reference(xg: Any, hg: Any, h_prev: Any) -> tuple[Any, Any]:
    """NumPy reference of the GRU step: (gates [r, z, n] (3, H, N), h')."""
    xp = array_module(xg)
    r = _sigmoid_reference(xp, xg[0] + hg[0])
    z = _sigmoid_reference(xp, xg[1] + hg[1])
    n = xp.tanh(xg[2] + r * hg[2])
    return xp.stack([r, z, n]), n + z * (h_prev - n)


def gru_cell_backward_reference(gates: Any, hg: Any, h_prev: Any, dh: Any) -> tuple[Any, Any, Any]:
    """NumPy reference of the GRU step's backward: (d xg, d hg, the direct part of dh_prev)."""
    xp = array_module(gates)
    r, z, n = gates
    dn = dh * (1.0 - z) * (1.0 - n * n)
    dz = dh * (h_prev - n) * z * (1.0 - z)
    dr = dn * hg[2] * r * (1.0 - r)
    return xp.stack([dr, dz, dn]), xp.stack([dr, dz, dn * r]), dh * z


def _assign(outs: tuple, values: tuple) -> None:
    for out, value in zip(outs, values):
        out[...] = value


def _sigmoid_into(xp: Any, x: Any, out: Any) -> None:
    """out = 1 / (1 + e^-x) in four vectorized passes (e^-x may overflow to
    inf for very negative x, which gives the right limit 0)."""
    with np.errstate(over="ignore"):
        xp.negative(x, out=out)
        xp.exp(out, out=out)
        xp.add(out, 1.0, out=out)
        xp.reciprocal(out, out=out)


def lstm_cell_forward(a: Any, c_prev: Any, gates: Any, c: Any, tanh_c: Any, h: Any) -> None:
    """The LSTM step, written into ``gates`` (4, H, N; may be ``a`` itself),
    ``c``, ``tanh_c`` and ``h`` (H, N).

    The transcendental functions run as NumPy's vectorized exp and tanh:
    NumPy evaluates them with SIMD instructions, Numba (without Intel's SVML)
    one element at a time, several times slower. The rest of the step is one
    pass of :func:`lstm_cell_forward_kernel`. Layouts the kernel does not
    take (a cell's transposed gate blocks, CuPy arrays) run the whole step
    in NumPy passes, to the same bits."""
    flat = flat_blocks(a, c_prev, gates, c, tanh_c, h)
    if flat is None:
        _lstm_cell_forward_passes(a, c_prev, gates, c, tanh_c, h)
        return
    a, c_prev, gates, c, tanh_c, h = flat
    exp_neg_a = np.negative(a)  # a separate array: the kernel's loop is vectorized only without overlaps
    with np.errstate(over="ignore"):  # exp(-a) = inf for very negative a gives the right limit 0
        np.exp(exp_neg_a, out=exp_neg_a)
    np.tanh(a[2], out=tanh_c)  # g, read by the kernel before tanh(c') takes its place
    lstm_cell_forward_kernel(exp_neg_a, tanh_c, c_prev, gates, c)
    np.tanh(c, out=tanh_c)
    np.multiply(gates[3], tanh_c, out=h)


def _lstm_cell_forward_passes(a: Any, c_prev: Any, gates: Any, c: Any, tanh_c: Any, h: Any) -> None:
    """:func:`lstm_cell_forward` for any layout and array module, in NumPy
    (or CuPy) passes that write into the given arrays."""
    xp = array_module(a)
    _sigmoid_into(xp, a[0:2], gates[0:2])
    _sigmoid_into(xp, a[3], gates[3])
    xp.tanh(a[2], out=gates[2])
    xp.multiply(gates[1], c_prev, out=c)
    c += gates[0] * gates[2]
    xp.tanh(c, out=tanh_c)
    xp.multiply(gates[3], tanh_c, out=h)


def lstm_cell_backward(gates: Any, c_prev: Any, tanh_c: Any, dh: Any, dh_more: Any, dc_next: Any,
                       d_gates: Any, dc_prev: Any) -> None:
    """The LSTM step's backward for dL/dh' = dh + dh_more, written into
    ``d_gates`` (4, H, N) and ``dc_prev`` (H, N). ``dc_prev`` may be
    ``dc_next``, but a separate array lets LLVM vectorize the loop (it
    cannot when two of the arrays overlap: 25 us instead of 7 us for H N =
    4096)."""
    flat = flat_blocks(gates, c_prev, tanh_c, dh, dh_more, dc_next, d_gates, dc_prev)
    if flat is not None:
        lstm_cell_backward_kernel(*flat)
    else:
        _assign((d_gates, dc_prev), lstm_cell_backward_reference(gates, c_prev, tanh_c, dh + dh_more,
                                                                 dc_next))


def gru_cell_forward(xg: Any, hg: Any, h_prev: Any, gates: Any, h: Any) -> None:
    """The GRU step, written into ``gates`` (3, H, N) and ``h`` (H, N); in
    NumPy's vectorized exp and tanh, as :func:`lstm_cell_forward` explains."""
    xp = array_module(xg)
    xp.add(xg[0:2], hg[0:2], out=gates[0:2])
    _sigmoid_into(xp, gates[0:2], gates[0:2])
    xp.multiply(gates[0], hg[2], out=gates[2])
    gates[2] += xg[2]
    xp.tanh(gates[2], out=gates[2])
    xp.subtract(h_prev, gates[2], out=h)
    h *= gates[1]
    h += gates[2]


def gru_cell_backward(gates: Any, hg: Any, h_prev: Any, dh: Any, dh_more: Any, d_xg: Any, d_hg: Any,
                      dh_prev: Any) -> None:
    """The GRU step's backward for dL/dh' = dh + dh_more, written into
    ``d_xg``, ``d_hg`` (3, H, N) and ``dh_prev`` (H, N, the direct part z dh')."""
    flat = flat_blocks(gates, hg, h_prev, dh, dh_more, d_xg, d_hg, dh_prev)
    if flat is not None:
        gru_cell_backward_kernel(*flat)
    else:
        _assign((d_xg, d_hg, dh_prev), gru_cell_backward_reference(gates, hg, h_prev, dh + dh_more))


def stacked(a: Any, gates: int) -> Any:
    """(N, G H) cell-layout gates as a (G, H, N) view."""
    n = a.shape[0]
    return a.reshape(n, gates, -1).transpose(1, 2, 0)
