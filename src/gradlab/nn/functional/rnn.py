"""One time step of the recurrent cells, with PyTorch's gate order.

    RNN:  h' = act(W_ih x + b_ih + W_hh h + b_hh)             (Elman 1990)
    LSTM: i, f, g, o = split(W_ih x + b_ih + W_hh h + b_hh)  (Hochreiter and Schmidhuber 1997,
          c' = sigma(f) c + sigma(i) tanh(g)                  with the forget gate of Gers et al. 2000)
          h' = sigma(o) tanh(c')
    GRU:  r, z, n = gates (Cho et al. 2014), PyTorch's variant with r inside:
          n = tanh(W_in x + b_in + sigma(r) (W_hn h + b_hn))
          h' = (1 - sigma(z)) n + sigma(z) h

The input projections ``W_ih x + b_ih`` of a whole sequence are one matrix
product made by the caller; the steps here add the recurrent part. An LSTM
layer runs each direction as one fused node (:class:`LSTMSequence`); GRU and
RNN layers, and the cells, are composed from Tensor ops step by step.
"""

from __future__ import annotations

from gradlab import ops
from gradlab._blas import MatmulInto
from gradlab.autograd import Function, enable_grad, grad, is_grad_enabled
from gradlab.backend import array_module
from gradlab.tensor import Tensor


def _lstm_pointwise(gates: Tensor, c: Tensor) -> tuple[Tensor, Tensor]:
    """The LSTM's elementwise part, composed from Tensor ops."""
    i, f, g, o = gates.chunk(4, 1)
    c2 = f.sigmoid() * c + i.sigmoid() * g.tanh()
    return o.sigmoid() * c2.tanh(), c2


class LSTMPointwise(Function):
    """The LSTM's elementwise part, fused: (gates, c) -> (h', c').

    Fused because the composed form costs about 15 graph nodes per time step
    and dominates a small LSTM's run time. Backward is the closed form

        dc = gc + gh o (1 - tanh(c')^2),  do = gh tanh(c') o (1 - o)
        di = dc g i (1 - i),  df = dc c f (1 - f),  dg = dc i (1 - g^2),  dc_prev = dc f

    on saved arrays; when the backward itself is recorded
    (``create_graph=True``) it differentiates the composed form instead, so
    that higher derivatives are right.
    """

    @staticmethod
    def forward(ctx, gates: Tensor, c: Tensor) -> tuple[Tensor, Tensor]:
        xp = array_module(gates.data)
        a = gates.data
        n = a.shape[1] // 4
        s = 1.0 / (1.0 + xp.exp(-a[:, :2 * n]))  # sigmoid of i and f
        i, f = s[:, :n], s[:, n:]
        g = xp.tanh(a[:, 2 * n:3 * n])
        o = 1.0 / (1.0 + xp.exp(-a[:, 3 * n:]))
        c2 = f * c.data + i * g
        tc = xp.tanh(c2)
        ctx.save_for_backward(gates, c)
        ctx.arrays = (i, f, g, o, tc)
        return Tensor._make(o * tc), Tensor._make(c2)

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
        xp = array_module(gh.data)
        i, f, g, o, tc = ctx.arrays
        dh = gh.data
        dc = gc.data + dh * o * (1.0 - tc * tc)
        d = xp.concatenate([dc * g * i * (1.0 - i), dc * c.data * f * (1.0 - f),
                            dc * i * (1.0 - g * g), dh * tc * o * (1.0 - o)], axis=1)
        return Tensor._make(d), Tensor._make(dc * f)


def _lstm_sequence_composed(x_proj: Tensor, h: Tensor, c: Tensor, w_hh: Tensor) -> tuple:
    """Reference form of :class:`LSTMSequence`, from Tensor ops."""
    hs = []
    for t in range(x_proj.shape[0]):
        h, c = _lstm_pointwise(x_proj[t] + h @ w_hh.T, c)
        hs.append(h)
    return ops.stack(hs, 0), h, c


class LSTMSequence(Function):
    """One LSTM layer in one direction over a whole sequence, fused:
    (x_proj (T, N, 4H), h0, c0, W_hh) -> (h_1..h_T, h_T, c_T), where
    x_proj = x W_ih^T + b_ih + b_hh for all steps.

    Fused because a graph of ~15 nodes per time step costs more in Python
    than the arithmetic of a small LSTM. The backward is backpropagation
    through time in closed form (see :class:`LSTMPointwise`), with
    dh_{t-1} = dgates_t W_hh and dW_hh = sum_t dgates_t^T h_{t-1} as one
    matrix product over all steps. When the backward is itself recorded
    (``create_graph=True``) it differentiates the composed form instead.
    """

    @staticmethod
    def forward(ctx, x_proj: Tensor, h0: Tensor, c0: Tensor, w_hh: Tensor) -> tuple:
        xp = array_module(x_proj.data)
        steps, batch, four_h = x_proj.shape
        n = four_h // 4
        dtype = x_proj.dtype
        # sigmoid(z) = (1 + tanh(z / 2)) / 2: halving the i, f, o columns of the
        # inputs and of W_hh once lets one tanh call per step activate all
        # gates, followed by one scale and one shift of the whole row
        half = xp.full(four_h, 0.5, dtype=dtype)
        half[2 * n:3 * n] = 1.0
        shift = xp.full(four_h, 0.5, dtype=dtype)
        shift[2 * n:3 * n] = 0.0
        w_t = xp.ascontiguousarray(w_hh.data.T * half)
        acts = xp.ascontiguousarray(x_proj.data * half)
        hs = xp.empty((steps + 1, batch, n), dtype=dtype)
        cs = xp.empty((steps + 1, batch, n), dtype=dtype)
        tcs = xp.empty((steps, batch, n), dtype=dtype)
        i_g = xp.empty((batch, n), dtype=dtype)
        hs[0], cs[0] = h0.data, c0.data
        recur = MatmulInto(hs, w_t, acts)  # acts[t] += h_{t-1} W_hh^T, one BLAS call
        for t in range(steps):
            a = acts[t]
            recur(t, t)
            xp.tanh(a, out=a)
            a *= half
            a += shift
            i, f, g, o = a[:, :n], a[:, n:2 * n], a[:, 2 * n:3 * n], a[:, 3 * n:]
            xp.multiply(f, cs[t], out=cs[t + 1])
            xp.multiply(i, g, out=i_g)
            cs[t + 1] += i_g
            xp.tanh(cs[t + 1], out=tcs[t])
            xp.multiply(o, tcs[t], out=hs[t + 1])
        ctx.save_for_backward(x_proj, h0, c0, w_hh)
        ctx.arrays = (acts, hs, cs, tcs)
        return Tensor._make(hs[1:]), Tensor._make(hs[steps]), Tensor._make(cs[steps])

    @staticmethod
    def backward(ctx, g_hs: Tensor, g_h: Tensor, g_c: Tensor) -> tuple:
        inputs = ctx.saved_tensors
        if is_grad_enabled():
            with enable_grad():
                wrt = [t for t in inputs if t.requires_grad]
                outs = _lstm_sequence_composed(*inputs)
                found = grad(outs, wrt, (g_hs, g_h, g_c), create_graph=True, allow_unused=True)
            lookup = dict(zip(map(id, wrt), found))
            return tuple(lookup.get(id(t)) for t in inputs)
        acts, hs, cs, tcs = ctx.arrays
        xp = array_module(acts)
        w = inputs[3].data
        steps, n = hs.shape[0] - 1, hs.shape[2]
        # Factors that do not depend on the incoming gradient, for all steps at
        # once (a few large operations instead of many small ones per step):
        # each gate's derivative, a (1 - a) for the sigmoids and 1 - g^2 for
        # tanh, and o (1 - tanh(c)^2), the path from h to c.
        slope = acts * (1.0 - acts)
        g_all = acts[:, :, 2 * n:3 * n]
        slope[:, :, 2 * n:3 * n] = 1.0 - g_all * g_all
        h_to_c = acts[:, :, 3 * n:] * (1.0 - tcs * tcs)
        d_gates = xp.empty_like(acts)
        # dh_t = (gradient from the outputs) + dgates_{t+1} W_hh, the product
        # added in place by one BLAS call per step
        dh_all = g_hs.data.copy()
        dh_all[-1] += g_h.data
        back = MatmulInto(d_gates, w, dh_all)
        dc_next = g_c.data
        for t in range(steps - 1, -1, -1):
            a, d, dh = acts[t], d_gates[t], dh_all[t]
            dc = dh * h_to_c[t]
            dc += dc_next
            xp.multiply(dc, a[:, 2 * n:3 * n], out=d[:, :n])       # d/d i:  dc g
            xp.multiply(dc, cs[t], out=d[:, n:2 * n])               # d/d f:  dc c_{t-1}
            xp.multiply(dc, a[:, :n], out=d[:, 2 * n:3 * n])        # d/d g:  dc i
            xp.multiply(dh, tcs[t], out=d[:, 3 * n:])               # d/d o:  dh tanh(c)
            d *= slope[t]
            dc_next = dc * a[:, n:2 * n]
            if t:
                back(t, t - 1)
        d_h0 = d_gates[0] @ w
        d_w = d_gates.reshape(-1, 4 * n).T @ hs[:-1].reshape(-1, n)
        return Tensor._make(d_gates), Tensor._make(d_h0), Tensor._make(dc_next), Tensor._make(d_w)


class Unbind0(Function):
    """x (T, ...) -> (x[0], ..., x[T-1]) as one graph node (slicing T times
    would make T nodes whose backward each allocates a zero tensor of x's
    size); backward stacks the gradients."""

    @staticmethod
    def forward(ctx, x: Tensor) -> tuple:
        return tuple(Tensor._make(x.data[t]) for t in range(x.shape[0]))

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
