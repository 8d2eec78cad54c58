r"""The SGD update as one fused pass per parameter.

With g the gradient (negated when ``maximize``) plus ``weight_decay *
theta``, PyTorch's rule (Robbins and Monro 1951; momentum: Polyak 1964;
Nesterov momentum as reformulated by Sutskever et al. 2013) is

.. math::
    b_1 = g_1, \quad b_t = \mu b_{t-1} + (1 - \tau) g_t, \qquad
    d_t = g_t + \mu b_t \ \text{(nesterov)} \ \text{or} \ b_t \ \text{(momentum)}
          \ \text{or} \ g_t, \qquad
    \theta_t = \theta_{t-1} - \eta d_t
"""

from __future__ import annotations

from typing import Any

from gradlab.kernels._jit import cpu_kernel, flat_input, prange, reads_as, scalars_like, writes_into

__all__ = ["sgd_kernel", "sgd_reference", "sgd_update"]


@cpu_kernel
def sgd_kernel(param, grad, buf, lr, momentum, one_minus_dampening, weight_decay, nesterov, maximize,
               first):  # pragma: no cover - compiled
    """One SGD step over flat arrays, in place on ``param`` and the momentum
    buffer ``buf`` (None without momentum; ``first`` marks the step that
    fills it with g); the scalars are of the arrays' dtype. A None ``buf``
    is known when Numba compiles, which leaves a loop without branches on
    arrays, one LLVM can vectorize."""
    for i in prange(param.size):
        g = -grad[i] if maximize else grad[i]
        g += weight_decay * param[i]
        if buf is not None:
            if first:
                b = g
            else:
                b = momentum * buf[i] + one_minus_dampening * g
            buf[i] = b
            g = g + momentum * b if nesterov else b
        param[i] -= lr * g


def sgd_reference(param: Any, grad: Any, buf: Any | None, *, first: bool, lr: float,
                  momentum: float, dampening: float, nesterov: bool, weight_decay: float,
                  maximize: bool) -> None:
    """The same step as array expressions (NumPy or CuPy, any layout)."""
    g = -grad if maximize else grad
    if weight_decay != 0:
        g = g + weight_decay * param
    if buf is not None:
        if first:
            buf[...] = g
        else:
            buf *= momentum
            buf += (1 - dampening) * g
        g = g + momentum * buf if nesterov else buf
    param -= lr * g


def sgd_update(param: Any, grad: Any, buf: Any | None, *, first: bool, lr: float,
               momentum: float, dampening: float, nesterov: bool, weight_decay: float,
               maximize: bool) -> None:
    """One SGD step in place on ``param`` and the momentum buffer ``buf``
    (None without momentum): the kernel where it takes the arrays, the
    reference otherwise."""
    state = [param] if buf is None else [param, buf]
    if not (writes_into(*state) and reads_as(grad, param)):
        sgd_reference(param, grad, buf, first=first, lr=lr, momentum=momentum,
                      dampening=dampening, nesterov=nesterov, weight_decay=weight_decay,
                      maximize=maximize)
        return
    flat = param.reshape(-1)
    sgd_kernel(flat, flat_input(grad), None if buf is None else buf.reshape(-1),
               *scalars_like(param, lr, momentum, 1 - dampening, weight_decay), bool(nesterov),
               bool(maximize), bool(first))
