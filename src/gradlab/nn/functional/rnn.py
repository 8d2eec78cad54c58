"""One time step of the recurrent cells, with PyTorch's gate order.

    RNN:  h' = act(W_ih x + b_ih + W_hh h + b_hh)             (Elman 1990)
    LSTM: i, f, g, o = split(W_ih x + b_ih + W_hh h + b_hh)  (Hochreiter and Schmidhuber 1997,
          c' = sigma(f) c + sigma(i) tanh(g)                  with the forget gate of Gers et al. 2000)
          h' = sigma(o) tanh(c')
    GRU:  r, z, n = gates (Cho et al. 2014), PyTorch's variant with r inside:
          n = tanh(W_in x + b_in + sigma(r) (W_hn h + b_hn))
          h' = (1 - sigma(z)) n + sigma(z) h

LSTM and GRU layers run each direction as one fused node
(:mod:`gradlab.nn.functional.rnn_layer`); this module holds the steps the
cells use, and the composed forms (from Tensor ops) that the fused nodes
differentiate when their backward is recorded. RNN layers are composed
step by step; their callers make the input projections ``W_ih x + b_ih``
of a whole sequence as one matrix product, and the steps here add the
recurrent part.
"""

from __future__ import annotations

from gradlab import ops
from gradlab.autograd import Function, enable_grad, grad, is_grad_enabled
from gradlab.backend import array_module
from gradlab.kernels.rnn_cell import lstm_cell_backward, lstm_cell_forward, stacked
from gradlab.nn.functional.rnn_layer import GRULayer, LSTMLayer
from gradlab.tensor import Tensor

__all__ = ["GRULayer", "LSTMLayer", "LSTMPointwise", "Unbind0", "gru_step", "lstm_step", "rnn_step"]


def _lstm_pointwise(gates: Tensor, c: Tensor) -> tuple[Tensor, Tensor]:
    """The LSTM's elementwise part, composed from Tensor ops."""
    i, f, g, o = gates.chunk(4, 1)
    c2 = f.sigmoid() * c + i.sigmoid() * g.tanh()
    return o.sigmoid() * c2.tanh(), c2


class LSTMPointwise(Function):
    """The LSTM's elementwise part, fused: (gates (N, 4H), c (N, H)) -> (h', c').

    Fused because the composed form costs about 15 graph nodes per time
    step. Forward and backward are the kernels of
    :mod:`gradlab.kernels.rnn_cell` (the closed form is in its docstring);
    when the backward itself is recorded (``create_graph=True``) it
    differentiates the composed form instead, so that higher derivatives are
    right.
    """

    @staticmethod
    def forward(ctx, gates: Tensor, c: Tensor) -> tuple[Tensor, Tensor]:
        xp = array_module(gates.array)
        a = gates.array
        batch, n = c.shape
        acts = xp.empty_like(a)
        c2, tc, h = (xp.empty((batch, n), dtype=a.dtype) for _ in range(3))
        lstm_cell_forward(stacked(a, 4), c.array.T, stacked(acts, 4), c2.T, tc.T, h.T)
        ctx.save_for_backward(gates, c)
        ctx.arrays = (acts, tc)
        return Tensor._make(h), Tensor._make(c2)

    @staticmethod
    def backward(ctx, gh: Tensor, gc: Tensor) -> tuple:
        gates, c = ctx.saved_tensors
        if is_grad_enabled():
            with enable_grad():
                wrt = [t for t in (gates, c) if t.requires_grad]
                h2, c2 = _lstm_pointwise(gates, c)
                found = grad((h2, c2), wrt, (gh, gc), create_graph=True, allow_unused=True)
            lookup = dict(zip(map(id, wrt), found))
            return lookup.get(id(gates)), lookup.get(id(c))
        xp = array_module(gh.array)
        acts, tc = ctx.arrays
        d = xp.empty_like(acts)
        dc = xp.empty_like(tc)
        zero = xp.zeros_like(tc)
        lstm_cell_backward(stacked(acts, 4), c.array.T, tc.T, gh.array.T, zero.T, gc.array.T, stacked(d, 4),
                           dc.T)
        return Tensor._make(d), Tensor._make(dc)


def lstm_layer_composed(x: Tensor, h: Tensor, c: Tensor, w_ih: Tensor, w_hh: Tensor,
                        bias: Tensor | None, reverse: bool) -> tuple:
    """Reference form of :class:`LSTMLayer`, from Tensor ops."""
    proj = x @ w_ih.T
    if bias is not None:
        proj = proj + bias
    steps = x.shape[0]
    hs: list = [None] * steps
    for t in (reversed(range(steps)) if reverse else range(steps)):
        h, c = _lstm_pointwise(proj[t] + h @ w_hh.T, c)
        hs[t] = h
    return ops.stack(hs, 0), h, c


def gru_layer_composed(x: Tensor, h: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None,
                       b_hh: Tensor | None, reverse: bool) -> tuple:
    """Reference form of :class:`GRULayer`, from Tensor ops."""
    proj = x @ w_ih.T
    if b_ih is not None:
        proj = proj + b_ih
    steps = x.shape[0]
    hs: list = [None] * steps
    for t in (reversed(range(steps)) if reverse else range(steps)):
        h = gru_step(proj[t], h, w_hh, b_hh)
        hs[t] = h
    return ops.stack(hs, 0), h


class Unbind0(Function):
    """x (T, ...) -> (x[0], ..., x[T-1]) as one graph node (slicing T times
    would make T nodes whose backward each allocates a zero tensor of x's
    size); backward stacks the gradients."""

    @staticmethod
    def forward(ctx, x: Tensor) -> tuple:
        return tuple(Tensor._make(x.array[t]) for t in range(x.shape[0]))

    @staticmethod
    def backward(ctx, *grads: Tensor) -> Tensor:
        return ops.stack(grads, 0)


def lstm_step(x_proj: Tensor, h: Tensor, c: Tensor, w_hh: Tensor) -> tuple[Tensor, Tensor]:
    """(h', c') from the input projection (W_ih x + b_ih + b_hh) of one step."""
    gates = x_proj + h @ w_hh.T
    return LSTMPointwise.apply(gates, c)


def gru_step(x_proj: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor | None) -> Tensor:
    """h' from the input projection (W_ih x + b_ih) of one step."""
    hg = h @ w_hh.T
    if b_hh is not None:
        hg = hg + b_hh
    xr, xz, xn = x_proj.chunk(3, 1)
    hr, hz, hn = hg.chunk(3, 1)
    r = (xr + hr).sigmoid()
    z = (xz + hz).sigmoid()
    n = (xn + r * hn).tanh()
    return n + z * (h - n)


def rnn_step(x_proj: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor | None, nonlinearity: str) -> Tensor:
    """h' = act(x_proj + W_hh h + b_hh), x_proj = W_ih x + b_ih."""
    pre = x_proj + h @ w_hh.T
    if b_hh is not None:
        pre = pre + b_hh
    return pre.tanh() if nonlinearity == "tanh" else pre.relu()
