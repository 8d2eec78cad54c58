"""Activation functions, forward and backward, one pass each.

Every forward kernel maps x to y elementwise; every backward kernel maps the
incoming gradient g and the saved input x (or, where cheaper, the output y)
to dL/dx = g f'(x). The public functions take arrays of any layout and
return arrays in the input's layout; arrays the kernels do not take (see
:mod:`gradlab.kernels._layout`) go through the NumPy reference beside each
kernel, which the tests compare against.

    ReLU        y = max(x, 0)                          f' = [x > 0] (0 at 0, as PyTorch)
    LeakyReLU   y = x if x > 0 else a x                f' = 1 or a        (Maas et al. 2013)
    ELU / SELU  y = s x if x > 0 else s a (e^x - 1)    f' = s or s a e^x  (Clevert et al. 2016;
                                                        SELU: s, a of Klambauer et al. 2017)
    sigmoid     y = 1 / (1 + e^-x)                     f' = y (1 - y)
    tanh        y = tanh x                             f' = 1 - y^2
    GELU        y = x Phi(x)                           f' = Phi(x) + x phi(x)  (Hendrycks and Gimpel 2016)
    GELU-tanh   y = x (1 + tanh u) / 2, u = sqrt(2/pi) (x + 0.044715 x^3)
    SiLU        y = x sigmoid(x)                       f' = s (1 + x (1 - s))  (Elfwing et al. 2018)
    softplus    y = log(1 + e^(b x)) / b, x if b x > t f' = sigmoid(b x), 1 if b x > t
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gradlab.backend import array_module
from gradlab.kernels._jit import cpu_kernel, prange
from gradlab.kernels._layout import dense, flat, like, takes
from gradlab.kernels._scalar import sigmoid as _sigmoid

__all__ = ["activation_backward", "activation_forward", "backward_reference", "forward_reference"]

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)




# ------------------------------------------------------------- forward kernels
@cpu_kernel
def relu_forward_kernel(x, y):
    for i in prange(x.size):
        y[i] = 0.0 if x[i] <= 0 else x[i]  # nan stays nan, as in PyTorch


@cpu_kernel
def leaky_relu_forward_kernel(x, y, slope):
    for i in prange(x.size):
        y[i] = x[i] if x[i] > 0 else slope * x[i]


@cpu_kernel
def elu_forward_kernel(x, y, alpha, scale):
    for i in prange(x.size):
        y[i] = scale * x[i] if x[i] > 0 else scale * alpha * math.expm1(x[i])


@cpu_kernel
def sigmoid_forward_kernel(x, y):
    for i in prange(x.size):
        y[i] = _sigmoid(x[i])


@cpu_kernel
def tanh_forward_kernel(x, y):
    for i in prange(x.size):
        y[i] = math.tanh(x[i])


@cpu_kernel
def gelu_forward_kernel(x, y):
    for i in prange(x.size):
        y[i] = 0.5 * x[i] * (1.0 + math.erf(x[i] * _INV_SQRT_2))


@cpu_kernel
def gelu_tanh_forward_kernel(x, y):
    for i in prange(x.size):
        v = x[i]
        y[i] = 0.5 * v * (1.0 + math.tanh(_SQRT_2_OVER_PI * (v + 0.044715 * v * v * v)))


@cpu_kernel
def silu_forward_kernel(x, y):
    for i in prange(x.size):
        y[i] = x[i] * _sigmoid(x[i])


@cpu_kernel
def softplus_forward_kernel(x, y, beta, threshold):
    for i in prange(x.size):
        bx = beta * x[i]
        y[i] = x[i] if bx > threshold else math.log1p(math.exp(bx)) / beta


# ------------------------------------------------------------ backward kernels
@cpu_kernel
def relu_backward_kernel(g, y, gx):
    for i in prange(g.size):
        gx[i] = g[i] if y[i] > 0 else 0.0


@cpu_kernel
def leaky_relu_backward_kernel(g, x, gx, slope):
    for i in prange(g.size):
        gx[i] = g[i] if x[i] > 0 else slope * g[i]


@cpu_kernel
def elu_backward_kernel(g, x, gx, alpha, scale):
    for i in prange(g.size):
        gx[i] = scale * g[i] if x[i] > 0 else scale * alpha * math.exp(x[i]) * g[i]


@cpu_kernel
def sigmoid_backward_kernel(g, y, gx):
    one = g.dtype.type(1.0)  # in the arrays' dtype: a float literal would promote to float64
    for i in prange(g.size):
        gx[i] = g[i] * y[i] * (one - y[i])


@cpu_kernel
def tanh_backward_kernel(g, y, gx):
    one = g.dtype.type(1.0)
    for i in prange(g.size):
        gx[i] = g[i] * (one - y[i] * y[i])


@cpu_kernel
def gelu_backward_kernel(g, x, gx):
    for i in prange(g.size):
        v = x[i]
        cdf = 0.5 * (1.0 + math.erf(v * _INV_SQRT_2))
        gx[i] = g[i] * (cdf + v * _INV_SQRT_2PI * math.exp(-0.5 * v * v))


@cpu_kernel
def gelu_tanh_backward_kernel(g, x, gx):
    for i in prange(g.size):
        v = x[i]
        t = math.tanh(_SQRT_2_OVER_PI * (v + 0.044715 * v * v * v))
        du = _SQRT_2_OVER_PI * (1.0 + 3.0 * 0.044715 * v * v)
        gx[i] = g[i] * (0.5 * (1.0 + t) + 0.5 * v * (1.0 - t * t) * du)


@cpu_kernel
def silu_backward_kernel(g, x, gx):
    for i in prange(g.size):
        s = _sigmoid(x[i])
        gx[i] = g[i] * s * (1.0 + x[i] * (1.0 - s))


@cpu_kernel
def softplus_backward_kernel(g, x, gx, beta, threshold):
    for i in prange(g.size):
        bx = beta * x[i]
        gx[i] = g[i] if bx > threshold else g[i] * _sigmoid(bx)


# ------------------------------------------------------- NumPy references
def _expit(xp: Any, x: Any) -> Any:
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)


def forward_reference(name: str, x: Any, **params: float) -> Any:
    """y = f(x) for the activation ``name``, in NumPy (or CuPy)."""
    xp = array_module(x)
    if name == "relu":
        y = xp.where(x <= 0, 0.0, x)
    elif name == "leaky_relu":
        y = xp.where(x > 0, x, params["slope"] * x)
    elif name == "elu":
        s, a = params["scale"], params["alpha"]
        y = xp.where(x > 0, s * x, s * a * xp.expm1(xp.minimum(x, 0.0)))
    elif name == "sigmoid":
        y = _expit(xp, x)
    elif name == "tanh":
        y = xp.tanh(x)
    elif name == "gelu":
        from gradlab.backend import erf
        y = 0.5 * x * (1.0 + erf(x * _INV_SQRT_2))
    elif name == "gelu_tanh":
        y = 0.5 * x * (1.0 + xp.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x ** 3)))
    elif name == "silu":
        y = x * _expit(xp, x)
    elif name == "softplus":
        b, t = params["beta"], params["threshold"]
        bx = b * x
        y = xp.where(bx > t, x, xp.log1p(xp.exp(xp.minimum(bx, t))) / b)
    else:
        raise ValueError(f"unknown activation {name!r}")
    return y.astype(x.dtype, copy=False)


def backward_reference(name: str, g: Any, saved: Any, **params: float) -> Any:
    """dL/dx = g f'(x) for the activation ``name``; ``saved`` is the output
    y for relu, sigmoid and tanh, the input x for the others."""
    xp = array_module(g)
    s = saved
    if name == "relu":
        gx = xp.where(s > 0, g, 0.0)
    elif name == "leaky_relu":
        gx = xp.where(s > 0, g, params["slope"] * g)
    elif name == "elu":
        sc, a = params["scale"], params["alpha"]
        gx = xp.where(s > 0, sc * g, sc * a * xp.exp(xp.minimum(s, 0.0)) * g)
    elif name == "sigmoid":
        gx = g * s * (1.0 - s)
    elif name == "tanh":
        gx = g * (1.0 - s * s)
    elif name == "gelu":
        from gradlab.backend import erf
        gx = g * (0.5 * (1.0 + erf(s * _INV_SQRT_2)) + s * _INV_SQRT_2PI * xp.exp(-0.5 * s * s))
    elif name == "gelu_tanh":
        t = xp.tanh(_SQRT_2_OVER_PI * (s + 0.044715 * s ** 3))
        du = _SQRT_2_OVER_PI * (1.0 + 3.0 * 0.044715 * s * s)
        gx = g * (0.5 * (1.0 + t) + 0.5 * s * (1.0 - t * t) * du)
    elif name == "silu":
        sig = _expit(xp, s)
        gx = g * sig * (1.0 + s * (1.0 - sig))
    elif name == "softplus":
        b, t = params["beta"], params["threshold"]
        gx = xp.where(b * s > t, g, g * _expit(xp, b * s))
    else:
        raise ValueError(f"unknown activation {name!r}")
    return gx.astype(g.dtype, copy=False)


_FORWARD = {
    "relu": relu_forward_kernel, "leaky_relu": leaky_relu_forward_kernel, "elu": elu_forward_kernel,
    "sigmoid": sigmoid_forward_kernel, "tanh": tanh_forward_kernel, "gelu": gelu_forward_kernel,
    "gelu_tanh": gelu_tanh_forward_kernel, "silu": silu_forward_kernel,
    "softplus": softplus_forward_kernel,
}
_BACKWARD = {
    "relu": relu_backward_kernel, "leaky_relu": leaky_relu_backward_kernel, "elu": elu_backward_kernel,
    "sigmoid": sigmoid_backward_kernel, "tanh": tanh_backward_kernel, "gelu": gelu_backward_kernel,
    "gelu_tanh": gelu_tanh_backward_kernel, "silu": silu_backward_kernel,
    "softplus": softplus_backward_kernel,
}
# the scalar parameters each kernel takes after its arrays, in order
_PARAMS = {"leaky_relu": ("slope",), "elu": ("alpha", "scale"), "softplus": ("beta", "threshold")}


def activation_forward(name: str, x: Any, **params: float) -> Any:
    """y = f(x) for the activation ``name`` (see the module docstring), in
    x's memory layout."""
    if not takes(x):
        return forward_reference(name, x, **params)
    x = dense(x)
    y = np.empty_like(x)
    _FORWARD[name](flat(x), flat(y), *(params[p] for p in _PARAMS.get(name, ())))
    return y


def activation_backward(name: str, g: Any, saved: Any, **params: float) -> Any:
    """dL/dx = g f'(x); ``saved`` is the forward's output y for relu, sigmoid
    and tanh and its input x for the others. The result has the saved
    array's layout."""
    if not takes(saved, g):
        return backward_reference(name, g, saved, **params)
    saved = dense(saved)
    gx = np.empty_like(saved)
    _BACKWARD[name](flat(like(g, saved)), flat(saved), flat(gx), *(params[p] for p in _PARAMS.get(name, ())))
    return gx
