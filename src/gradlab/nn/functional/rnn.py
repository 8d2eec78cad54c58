"""One time step of the recurrent cells, with PyTorch's gate order.

    RNN:  h' = act(W_ih x + b_ih + W_hh h + b_hh)             (Elman 1990)
    LSTM: i, f, g, o = split(W_ih x + b_ih + W_hh h + b_hh)  (Hochreiter and Schmidhuber 1997,
          c' = sigma(f) c + sigma(i) tanh(g)                  with the forget gate of Gers et al. 2000)
          h' = sigma(o) tanh(c')
    GRU:  r, z, n = gates (Cho et al. 2014), PyTorch's variant with r inside:
          n = tanh(W_in x + b_in + sigma(r) (W_hn h + b_hn))
          h' = (1 - sigma(z)) n + sigma(z) h

An LSTM layer runs each direction as one fused node (:class:`LSTMLayer`).
GRU and RNN layers, and the cells, are composed from Tensor ops step by
step; their callers make the input projections ``W_ih x + b_ih`` of a whole
sequence as one matrix product, and the steps here add the recurrent part.
"""

from __future__ import annotations

from gradlab import ops
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
        xp = array_module(gates.array)
        a = gates.array
        n = a.shape[1] // 4
        s = 1.0 / (1.0 + xp.exp(-a[:, :2 * n]))  # sigmoid of i and f
        i, f = s[:, :n], s[:, n:]
        g = xp.tanh(a[:, 2 * n:3 * n])
        o = 1.0 / (1.0 + xp.exp(-a[:, 3 * n:]))
        c2 = f * c.array + i * g
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
        xp = array_module(gh.array)
        i, f, g, o, tc = ctx.arrays
        dh = gh.array
        dc = gc.array + dh * o * (1.0 - tc * tc)
        d = xp.concatenate([dc * g * i * (1.0 - i), dc * c.array * f * (1.0 - f),
                            dc * i * (1.0 - g * g), dh * tc * o * (1.0 - o)], axis=1)
        return Tensor._make(d), Tensor._make(dc * f)


def _lstm_layer_composed(x: Tensor, h: Tensor, c: Tensor, w_ih: Tensor, w_hh: Tensor,
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


class LSTMLayer(Function):
    """One LSTM layer in one direction over a whole sequence, fused:
    (x (T, N, F), h0 (N, H), c0 (N, H), W_ih, W_hh, b) -> (h_1..h_T (T, N, H),
    h_T, c_T), where b = b_ih + b_hh (or None) and ``reverse`` runs the
    sequence from its last step to its first.

    Fused because a graph of ~15 nodes per time step costs more in Python
    than the arithmetic of a small LSTM. The arrays are laid out feature by
    batch: each step's inputs z_t = [x_t; h_{t-1}; 1] are a column block
    (F + H + 1, N) and its gates one product [W_ih | W_hh | b] z_t, an
    array (4H, N) in which every gate is a contiguous block. That makes each
    step one small matrix product (about a third faster than (N, H) @ (H, 4H)
    in OpenBLAS) and its elementwise work contiguous.

    The backward is backpropagation through time in closed form (see
    :class:`LSTMPointwise`): dz_t = [W_ih | W_hh]^T dgates_t gives dx_t and
    the recurrent part of dh_{t-1}, and [dW_ih | dW_hh | db] = sum_t dgates_t
    z_t^T is one matrix product over all steps. When the backward is itself
    recorded (``create_graph=True``) it differentiates the composed form
    instead.
    """

    @staticmethod
    def forward(ctx, x: Tensor, h0: Tensor, c0: Tensor, w_ih: Tensor, w_hh: Tensor,
                bias: Tensor | None, reverse: bool = False) -> tuple:
        xp = array_module(x.array)
        steps, batch, n_in = x.shape
        n = w_hh.shape[1]
        dtype = x.dtype
        # sigmoid(s) = (1 + tanh(s / 2)) / 2: halving the rows of the i, f and
        # o gates in the weights lets one tanh per step activate all gates,
        # followed by one scale and one shift of the whole block
        half = xp.full((4 * n, 1), 0.5, dtype=dtype)
        half[2 * n:3 * n] = 1.0
        w = xp.empty((4 * n, n_in + n + 1), dtype=dtype)
        xp.multiply(w_ih.array, half, out=w[:, :n_in])
        xp.multiply(w_hh.array, half, out=w[:, n_in:-1])
        w[:, -1] = 0.0 if bias is None else bias.array * half[:, 0]
        z = xp.empty((steps + 1, n_in + n + 1, batch), dtype=dtype)
        z[:steps, :n_in] = (x.array[::-1] if reverse else x.array).transpose(0, 2, 1)
        z[steps, :n_in] = 0.0
        z[:, -1] = 1.0
        z[0, n_in:-1] = h0.array.T
        acts = xp.empty((steps, 4 * n, batch), dtype=dtype)
        cs = xp.empty((steps + 1, n, batch), dtype=dtype)
        cs[0] = c0.array.T
        tcs = xp.empty((steps, n, batch), dtype=dtype)
        scale = xp.ascontiguousarray(xp.broadcast_to(half, (4 * n, batch)))
        shift = 1.0 - scale
        i_g = xp.empty((n, batch), dtype=dtype)
        for t in range(steps):
            a = acts[t]
            xp.matmul(w, z[t], out=a)
            xp.tanh(a, out=a)
            a *= scale
            a += shift
            i, f, g, o = a[:n], a[n:2 * n], a[2 * n:3 * n], a[3 * n:]
            xp.multiply(f, cs[t], out=cs[t + 1])
            xp.multiply(i, g, out=i_g)
            cs[t + 1] += i_g
            xp.tanh(cs[t + 1], out=tcs[t])
            xp.multiply(o, tcs[t], out=z[t + 1, n_in:-1])
        ctx.save_for_backward(x, h0, c0, w_ih, w_hh, bias)
        ctx.reverse = reverse
        ctx.arrays = (acts, z, cs, tcs)
        # the outputs are copies, since the backward reads h_1..h_{T-1} from z
        # (in the (T, H, N) layout: a transposing copy would cost 3x more)
        hs = z[1:, n_in:-1].copy().transpose(0, 2, 1)
        return Tensor._make(hs[::-1] if reverse else hs), Tensor._make(z[steps, n_in:-1].T.copy()), \
            Tensor._make(cs[steps].T.copy())

    @staticmethod
    def backward(ctx, g_hs: Tensor, g_h: Tensor, g_c: Tensor) -> tuple:
        inputs = ctx.saved_tensors
        reverse = ctx.reverse
        if is_grad_enabled():
            with enable_grad():
                wrt = [t for t in inputs if t is not None and t.requires_grad]
                outs = _lstm_layer_composed(*inputs, reverse)
                found = grad(outs, wrt, (g_hs, g_h, g_c), create_graph=True, allow_unused=True)
            lookup = dict(zip(map(id, wrt), found))
            return tuple(lookup.get(id(t)) for t in inputs) + (None,)
        acts, z, cs, tcs = ctx.arrays
        x, h0, _, w_ih, w_hh, bias = inputs
        need_x, need_h0, _, need_w_ih, need_w_hh, need_bias = ctx.needs_input_grad[:6]
        xp = array_module(acts)
        steps, four_n, batch = acts.shape
        n, n_in = four_n // 4, x.shape[2]
        # Factors that do not depend on the incoming gradient, for all steps at
        # once (a few large operations instead of many small ones per step):
        # dgates = [dc, dc, dc, dh] * coef, with the gates' derivatives in
        # coef = [g i (1 - i), c_{t-1} f (1 - f), i (1 - g^2), tanh(c) o (1 - o)],
        # and h_to_c = o (1 - tanh(c)^2), the path from h to c.
        i, f, g, o = (acts[:, k * n:(k + 1) * n] for k in range(4))
        coef = xp.empty_like(acts)
        for block, gate, partner in ((0, i, g), (1, f, cs[:-1]), (3, o, tcs)):
            q = coef[:, block * n:(block + 1) * n]
            xp.subtract(1.0, gate, out=q)
            q *= gate
            q *= partner
        q = coef[:, 2 * n:3 * n]
        xp.multiply(g, g, out=q)
        xp.subtract(1.0, q, out=q)
        q *= i
        h_to_c = tcs * tcs
        xp.subtract(1.0, h_to_c, out=h_to_c)
        h_to_c *= o
        d_gates = xp.empty_like(acts)
        # dz[t] = dL/d[x_t; h_{t-1}]: its h rows start as the gradient from the
        # outputs, and each step adds [W_ih | W_hh]^T dgates_t by one BLAS call
        # (the x rows only where x needs a gradient)
        dz = xp.empty((steps + 1, n_in + n, batch), dtype=acts.dtype)
        dz[1:, n_in:] = (g_hs.array[::-1] if reverse else g_hs.array).transpose(0, 2, 1)
        dz[steps, n_in:] += g_h.array.T
        dz[0, n_in:] = 0.0
        if need_x:
            dz[:steps, :n_in] = 0.0
            w_t = xp.ascontiguousarray(xp.concatenate([w_ih.array, w_hh.array], axis=1).T)
            dz_back = dz
        else:
            w_t = xp.ascontiguousarray(w_hh.array.T)
            dz_back = dz[:, n_in:]
        dc_next = g_c.array.T
        dc = xp.empty((n, batch), dtype=acts.dtype)
        three = (3, n, batch)
        for t in range(steps - 1, -1, -1):
            d, dh = d_gates[t], dz[t + 1, n_in:]
            xp.multiply(dh, h_to_c[t], out=dc)
            dc += dc_next
            xp.multiply(coef[t, :3 * n].reshape(three), dc, out=d[:3 * n].reshape(three))  # i, f, g
            xp.multiply(dh, coef[t, 3 * n:], out=d[3 * n:])                                # o
            dc_next = dc * f[t]
            if t or need_x or need_h0:
                dz_back[t] += w_t @ d
        d_w_ih = d_w_hh = d_bias = None
        if need_w_ih or need_w_hh or need_bias:
            # all steps' dgates_t z_t^T as one product of (4H, T N) and (T N, F + H + 1)
            d_rows = xp.ascontiguousarray(d_gates.transpose(1, 0, 2)).reshape(four_n, -1)
            z_rows = xp.ascontiguousarray(z[:steps].transpose(1, 0, 2)).reshape(z.shape[1], -1)
            d_w = d_rows @ z_rows.T
            d_w_ih, d_w_hh = d_w[:, :n_in], d_w[:, n_in:-1]
            d_bias = d_w[:, -1] if bias is not None else None
        d_x = None
        if need_x:
            d_x = dz[:steps, :n_in].transpose(0, 2, 1)
            d_x = Tensor._make(d_x[::-1] if reverse else d_x)
        return (d_x, Tensor._make(dz[0, n_in:].T), Tensor._make(dc_next.T),
                *(None if g is None else Tensor._make(g) for g in (d_w_ih, d_w_hh, d_bias)), None)


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
