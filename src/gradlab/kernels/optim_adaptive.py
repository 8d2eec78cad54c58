r"""RMSprop, Adagrad and Adadelta as one fused pass per parameter.

g_t is the gradient (negated when ``maximize``) plus ``weight_decay * theta``.

RMSprop (Hinton, Srivastava and Swersky, lecture 6e, 2012), with PyTorch's
centered and momentum variants, and gradlab's ``nesterov`` (Goodfellow et al.,
*Deep Learning*, Algorithm 8.6; the parameters hold the look-ahead point, see
:class:`gradlab.optim.RMSprop`):

.. math::
    r_t = \alpha r_{t-1} + (1-\alpha) g_t^2, \quad
    \bar g_t = \alpha \bar g_{t-1} + (1-\alpha) g_t, \quad
    s_t = \sqrt{r_t [- \bar g_t^2]} + \epsilon, \\
    \theta_t = \theta_{t-1} - \eta g_t / s_t, \ \text{or}\
    b_t = \mu b_{t-1} + g_t / s_t,\ \theta_t = \theta_{t-1} - \eta b_t, \ \text{or (nesterov)}\
    v_t = \mu v_{t-1} - \eta g_t / s_t,\ \theta_t = \theta_{t-1} - \mu v_{t-1} + (1 + \mu) v_t

Adagrad (Duchi, Hazan and Singer 2011), with PyTorch's ``lr_decay``:

.. math::
    G_t = G_{t-1} + g_t^2, \qquad
    \theta_t = \theta_{t-1} - \frac{\eta}{1 + (t-1)\,\text{lr\_decay}}
               \frac{g_t}{\sqrt{G_t} + \epsilon}

Adadelta (Zeiler 2012, Algorithm 1, with PyTorch's learning rate):

.. math::
    E[g^2]_t = \rho E[g^2]_{t-1} + (1-\rho) g_t^2, \quad
    \Delta_t = \frac{\sqrt{E[\Delta^2]_{t-1} + \epsilon}}{\sqrt{E[g^2]_t + \epsilon}} g_t, \\
    E[\Delta^2]_t = \rho E[\Delta^2]_{t-1} + (1-\rho) \Delta_t^2, \qquad
    \theta_t = \theta_{t-1} - \eta \Delta_t
"""

from __future__ import annotations

import math
from typing import Any

from gradlab.backend import array_module
from gradlab.kernels._jit import cpu_kernel, flat_input, prange, reads_as, scalars_like, writes_into

__all__ = ["adadelta_kernel", "adadelta_reference", "adadelta_update", "adagrad_kernel",
           "adagrad_reference", "adagrad_update", "rmsprop_kernel", "rmsprop_reference",
           "rmsprop_update"]


def _gradient(param: Any, grad: Any, weight_decay: float, maximize: bool) -> Any:
    g = -grad if maximize else grad
    return g + weight_decay * param if weight_decay != 0 else g


# ------------------------------------------------------------------ RMSprop
@cpu_kernel
def rmsprop_kernel(param, grad, square_avg, grad_avg, buf, lr, alpha, one_minus_alpha, eps,
                   weight_decay, momentum, one_plus_momentum, nesterov,
                   maximize):  # pragma: no cover - compiled
    """One RMSprop step over flat arrays, the scalars of their dtype;
    ``grad_avg`` is None unless centered, ``buf`` None without momentum
    (known when Numba compiles, so each variant is its own loop, which LLVM
    vectorizes)."""
    for i in prange(param.size):
        g = -grad[i] if maximize else grad[i]
        g += weight_decay * param[i]
        square_avg[i] = alpha * square_avg[i] + one_minus_alpha * g * g
        r = square_avg[i]
        if grad_avg is not None:
            grad_avg[i] = alpha * grad_avg[i] + one_minus_alpha * g
            r -= grad_avg[i] * grad_avg[i]
        scaled = g / (math.sqrt(r) + eps)
        if buf is None:
            param[i] -= lr * scaled
        elif nesterov:
            v_old = buf[i]
            buf[i] = momentum * v_old - lr * scaled
            param[i] += one_plus_momentum * buf[i] - momentum * v_old
        else:
            buf[i] = momentum * buf[i] + scaled
            param[i] -= lr * buf[i]


def rmsprop_reference(param: Any, grad: Any, square_avg: Any, grad_avg: Any | None,
                      buf: Any | None, *, lr: float, alpha: float, eps: float,
                      weight_decay: float, momentum: float, nesterov: bool,
                      maximize: bool) -> None:
    """The same step as array expressions (NumPy or CuPy, any layout):
    ``grad_avg`` given when centered, ``buf`` when momentum > 0."""
    xp = array_module(param)
    g = _gradient(param, grad, weight_decay, maximize)
    square_avg *= alpha
    square_avg += (1 - alpha) * g * g
    if grad_avg is not None:
        grad_avg *= alpha
        grad_avg += (1 - alpha) * g
        scaled = g / (xp.sqrt(square_avg - grad_avg * grad_avg) + eps)
    else:
        scaled = g / (xp.sqrt(square_avg) + eps)
    if buf is None:
        param -= lr * scaled
    elif nesterov:
        param -= momentum * buf
        buf *= momentum
        buf -= lr * scaled
        param += (1 + momentum) * buf
    else:
        buf *= momentum
        buf += scaled
        param -= lr * buf


def rmsprop_update(param: Any, grad: Any, square_avg: Any, grad_avg: Any | None,
                   buf: Any | None, *, lr: float, alpha: float, eps: float,
                   weight_decay: float, momentum: float, nesterov: bool,
                   maximize: bool) -> None:
    """One RMSprop step in place on ``param`` and the state: the kernel
    where it takes the arrays, the reference otherwise."""
    state = [a for a in (param, square_avg, grad_avg, buf) if a is not None]
    if not (writes_into(*state) and reads_as(grad, param)):
        rmsprop_reference(param, grad, square_avg, grad_avg, buf, lr=lr, alpha=alpha, eps=eps,
                          weight_decay=weight_decay, momentum=momentum, nesterov=nesterov,
                          maximize=maximize)
        return
    flat = param.reshape(-1)
    rmsprop_kernel(flat, flat_input(grad), square_avg.reshape(-1),
                   None if grad_avg is None else grad_avg.reshape(-1),
                   None if buf is None else buf.reshape(-1),
                   *scalars_like(param, lr, alpha, 1 - alpha, eps, weight_decay, momentum, 1 + momentum),
                   bool(nesterov), bool(maximize))


# ------------------------------------------------------------------ Adagrad
@cpu_kernel
def adagrad_kernel(param, grad, state_sum, clr, eps, weight_decay, maximize):  # pragma: no cover
    """One Adagrad step over flat arrays; ``clr`` = lr / (1 + (t-1) lr_decay),
    the scalars of the arrays' dtype."""
    for i in prange(param.size):
        g = -grad[i] if maximize else grad[i]
        g += weight_decay * param[i]
        state_sum[i] += g * g
        param[i] -= clr * g / (math.sqrt(state_sum[i]) + eps)


def adagrad_reference(param: Any, grad: Any, state_sum: Any, *, step: int, lr: float,
                      lr_decay: float, eps: float, weight_decay: float, maximize: bool) -> None:
    """The same step as array expressions (NumPy or CuPy, any layout)."""
    xp = array_module(param)
    g = _gradient(param, grad, weight_decay, maximize)
    state_sum += g * g
    param -= lr / (1 + (step - 1) * lr_decay) * g / (xp.sqrt(state_sum) + eps)


def adagrad_update(param: Any, grad: Any, state_sum: Any, *, step: int, lr: float,
                   lr_decay: float, eps: float, weight_decay: float, maximize: bool) -> None:
    """One Adagrad step (``step`` = t, from 1) in place on ``param`` and
    ``state_sum``: the kernel where it takes the arrays, the reference
    otherwise."""
    if not (writes_into(param, state_sum) and reads_as(grad, param)):
        adagrad_reference(param, grad, state_sum, step=step, lr=lr, lr_decay=lr_decay, eps=eps,
                          weight_decay=weight_decay, maximize=maximize)
        return
    adagrad_kernel(param.reshape(-1), flat_input(grad), state_sum.reshape(-1),
                   *scalars_like(param, lr / (1 + (step - 1) * lr_decay), eps, weight_decay),
                   bool(maximize))


# ------------------------------------------------------------------ Adadelta
@cpu_kernel
def adadelta_kernel(param, grad, square_avg, acc_delta, lr, rho, one_minus_rho, eps, weight_decay,
                    maximize):  # pragma: no cover - compiled
    """One Adadelta step over flat arrays, the scalars of their dtype."""
    for i in prange(param.size):
        g = -grad[i] if maximize else grad[i]
        g += weight_decay * param[i]
        square_avg[i] = rho * square_avg[i] + one_minus_rho * g * g
        delta = math.sqrt(acc_delta[i] + eps) / math.sqrt(square_avg[i] + eps) * g
        acc_delta[i] = rho * acc_delta[i] + one_minus_rho * delta * delta
        param[i] -= lr * delta


def adadelta_reference(param: Any, grad: Any, square_avg: Any, acc_delta: Any, *, lr: float,
                       rho: float, eps: float, weight_decay: float, maximize: bool) -> None:
    """The same step as array expressions (NumPy or CuPy, any layout)."""
    xp = array_module(param)
    g = _gradient(param, grad, weight_decay, maximize)
    square_avg *= rho
    square_avg += (1 - rho) * g * g
    delta = xp.sqrt(acc_delta + eps) / xp.sqrt(square_avg + eps) * g
    acc_delta *= rho
    acc_delta += (1 - rho) * delta * delta
    param -= lr * delta


def adadelta_update(param: Any, grad: Any, square_avg: Any, acc_delta: Any, *, lr: float,
                    rho: float, eps: float, weight_decay: float, maximize: bool) -> None:
    """One Adadelta step in place on ``param`` and both running averages:
    the kernel where it takes the arrays, the reference otherwise."""
    if not (writes_into(param, square_avg, acc_delta) and reads_as(grad, param)):
        adadelta_reference(param, grad, square_avg, acc_delta, lr=lr, rho=rho, eps=eps,
                           weight_decay=weight_decay, maximize=maximize)
        return
    adadelta_kernel(param.reshape(-1), flat_input(grad), square_avg.reshape(-1),
                    acc_delta.reshape(-1), *scalars_like(param, lr, rho, 1 - rho, eps, weight_decay),
                    bool(maximize))
