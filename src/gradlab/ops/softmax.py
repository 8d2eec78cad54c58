"""softmax, log_softmax and logsumexp, computed stably.

All three subtract the maximum along ``dim`` before exponentiating, using

    log sum_j e^{x_j} = m + log sum_j e^{x_j - m},   m = max_j x_j,

so logits of 1e4 neither overflow nor lose the differences between them.
They are primitives with fused backward rules (composing them from exp, sum
and log would be slower and, for log_softmax, less accurate):

    d logsumexp / dx = softmax(x)
    softmax:      dx = y * (g - sum(g * y))
    log_softmax:  dx = g - softmax(x) * sum(g)
"""

from __future__ import annotations

from gradlab import backend
from gradlab.autograd.node import Op
from gradlab.ops._util import dims, floating
from gradlab.tensor import Tensor


def _shifted(x, axis, plus_inf=False):
    """x - max(x) along ``axis``, with a maximum of -inf replaced by 0 so that
    a row of -inf gives -inf rather than nan. With ``plus_inf`` a maximum of
    +inf is replaced too: PyTorch's logsumexp of a row holding +inf is +inf,
    while its softmax and log_softmax of that row are nan."""
    xp = backend.array_module(x)
    if x.size:
        m = xp.amax(x, axis=axis, keepdims=True)
    else:  # amax refuses empty input; any shift works, take 0 of the reduced shape
        m = xp.zeros_like(xp.sum(x, axis=axis, keepdims=True))
    bad = xp.isinf(m) if plus_inf else m == -xp.inf
    m = xp.where(bad, 0, m)
    return x - m, m


class LogSumExp(Op):
    def forward(self, x):
        xp = backend.array_module(x)
        z, m = _shifted(x, self.axes, plus_inf=True)
        out = xp.log(xp.sum(xp.exp(z), axis=self.axes, keepdims=True)) + m
        self.out = out
        return out if self.keepdim else xp.squeeze(out, axis=self.axes)

    def backward(self, g):
        (x,) = self.inputs
        out = Tensor._make(self.out, self if self.inputs is not None else None)
        if not self.keepdim:
            g = g.reshape(self.out.shape)
        return g * (x - out).exp()


class Softmax(Op):
    reads_inputs = False

    def forward(self, x):
        xp = backend.array_module(x)
        z, _ = _shifted(x, self.axis)
        e = xp.exp(z)
        self.out = e / xp.sum(e, axis=self.axis, keepdims=True)
        return self.out

    def backward(self, g):
        y = self.output()
        return y * (g - (g * y).sum(self.axis, keepdim=True))


class LogSoftmax(Op):
    reads_inputs = False

    def forward(self, x):
        xp = backend.array_module(x)
        z, _ = _shifted(x, self.axis)
        self.out = z - xp.log(xp.sum(xp.exp(z), axis=self.axis, keepdims=True))
        return self.out

    def backward(self, g):
        return g - self.output().exp() * g.sum(self.axis, keepdim=True)


def softmax(x: Tensor, dim: int, dtype=None) -> Tensor:
    """exp(x_i) / sum_j exp(x_j) along ``dim``."""
    x = floating(x if dtype is None else x.to(dtype))
    (axis,) = dims(dim, x.ndim) or (0,)
    return Softmax.apply(x, axis=axis if x.ndim else None)


def log_softmax(x: Tensor, dim: int, dtype=None) -> Tensor:
    """x_i - log sum_j exp(x_j) along ``dim``."""
    x = floating(x if dtype is None else x.to(dtype))
    (axis,) = dims(dim, x.ndim) or (0,)
    return LogSoftmax.apply(x, axis=axis if x.ndim else None)


def logsumexp(x: Tensor, dim, keepdim: bool = False) -> Tensor:
    """log sum exp(x) over ``dim``."""
    x = floating(x)
    return LogSumExp.apply(x, axes=dims(dim, x.ndim), keepdim=keepdim)
