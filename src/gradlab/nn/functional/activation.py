"""Activation functions. ReLU, sigmoid and tanh are engine ops; leaky ReLU
and GELU are single nodes on the kernels of :mod:`gradlab.kernels.activation`
(their composed forms give the higher derivatives); the others are composed
from engine ops (their derivatives, to any order, come from the chain rule):
their forward is bound by exp, which NumPy vectorizes and the kernels, with
Numba's scalar exp, do not.

Where a formula would overflow in the branch that ``where`` discards (the
exponential of a large positive input in ELU or Softplus), the input of that
branch is clamped first: ``where`` sends a zero gradient to the discarded
branch, but 0 * inf would still be nan.
"""

from __future__ import annotations

import math

from gradlab import ops
from gradlab.autograd import is_grad_enabled
from gradlab.autograd.node import Op
from gradlab.kernels.activation import activation_backward, activation_forward
from gradlab.nn.functional._fused import recorded_grads
from gradlab.ops._util import floating
from gradlab.tensor import Tensor

__all__ = [
    "elu", "gelu", "hardtanh", "leaky_relu", "log_softmax", "prelu", "relu", "relu6", "selu",
    "sigmoid", "silu", "softmax", "softplus", "swish", "tanh",
]

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def relu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002 - PyTorch's names
    """max(x, 0); gradient 0 at x = 0, as PyTorch."""
    return ops.relu(input)


def sigmoid(input: Tensor) -> Tensor:  # noqa: A002
    """1 / (1 + e^-x)."""
    return ops.sigmoid(input)


def tanh(input: Tensor) -> Tensor:  # noqa: A002
    return ops.tanh(input)


class Pointwise(Op):
    """y = f(x) for an activation of :mod:`gradlab.kernels.activation`
    (``kind``, with its scalar ``params``) as one node: forward and backward
    are its kernels; when the backward is recorded it differentiates
    ``composed``, the same function from Tensor ops."""

    def forward(self, x):
        return activation_forward(self.kind, x, **self.params)

    def backward(self, g):
        (x,) = self.inputs
        if is_grad_enabled():
            return recorded_grads(self.composed, (x,), (g,))[0]
        return Tensor._make(activation_backward(self.kind, g.array, x.array, **self.params))


def _leaky_relu_composed(input: Tensor, negative_slope: float) -> Tensor:  # noqa: A002
    return ops.where(input > 0, input, input * negative_slope)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:  # noqa: A002
    """x for x > 0, negative_slope * x otherwise (Maas et al. 2013)."""
    if input.array.dtype.kind != "f":
        return _leaky_relu_composed(input, negative_slope)
    return Pointwise.apply(input, kind="leaky_relu", params={"slope": float(negative_slope)},
                           composed=lambda t: _leaky_relu_composed(t, negative_slope))


def prelu(input: Tensor, weight: Tensor) -> Tensor:  # noqa: A002
    """Leaky ReLU with a learned slope ``weight`` (He et al. 2015): one slope
    shared by all channels (``weight`` of size 1) or one per channel (size C,
    applied along dimension 1)."""
    if weight.ndim != 1:
        raise RuntimeError(f"prelu: weight must be 1-D, got shape {tuple(weight.shape)}")
    n = weight.shape[0]
    if n != 1:
        channels = input.shape[1] if input.ndim >= 2 else (input.shape[0] if input.ndim == 1 else 1)
        if channels != n:
            raise RuntimeError(
                f"prelu: weight has {n} parameters, but the input of shape {tuple(input.shape)} "
                f"has {channels} channels"
            )
        if input.ndim >= 2:
            weight = weight.reshape(n, *([1] * (input.ndim - 2)))
    return ops.where(input > 0, input, input * weight)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    """x for x > 0, alpha (e^x - 1) otherwise (Clevert et al. 2016)."""
    return ops.where(input > 0, input, alpha * ops.expm1(ops.clamp(input, max=0.0)))


def selu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """scale * elu(x, alpha) with the self-normalizing constants of
    Klambauer et al. (2017)."""
    return _SELU_SCALE * elu(input, _SELU_ALPHA)


def silu(input: Tensor, inplace: bool = False, beta: float | Tensor = 1.0) -> Tensor:  # noqa: A002
    """x * sigmoid(beta x): SiLU (Hendrycks and Gimpel 2016; Elfwing et al.
    2018) for beta = 1, Swish (Ramachandran et al. 2017) for other, possibly
    learned, beta. PyTorch's ``silu`` has no beta."""
    if isinstance(beta, (int, float)) and beta == 1.0:
        return input * ops.sigmoid(input)
    return input * ops.sigmoid(input * beta)


swish = silu


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:  # noqa: A002
    """log(1 + e^(beta x)) / beta, and x itself where beta x > threshold
    (PyTorch's switch to the linear regime, which also avoids overflow)."""
    bx = input * beta if beta != 1.0 else input
    smooth = ops.log1p(ops.exp(ops.clamp(bx, max=threshold)))
    return ops.where(bx > threshold, input, smooth / beta if beta != 1.0 else smooth)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:  # noqa: A002
    """x Phi(x) with Phi the standard normal CDF (Hendrycks and Gimpel 2016);
    ``approximate="tanh"`` uses 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    kind = "gelu" if approximate == "none" else "gelu_tanh"
    return Pointwise.apply(floating(input), kind=kind, params={},
                           composed=lambda t: _gelu_composed(t, approximate))


def _gelu_composed(input: Tensor, approximate: str) -> Tensor:  # noqa: A002
    if approximate == "none":
        return 0.5 * input * (1.0 + ops.erf(input * (1.0 / math.sqrt(2.0))))
    inner = math.sqrt(2.0 / math.pi) * (input + 0.044715 * input * input * input)
    return 0.5 * input * (1.0 + ops.tanh(inner))


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,  # noqa: A002
             inplace: bool = False) -> Tensor:
    """x clamped to [min_val, max_val]; unlike ``clamp``, the gradient is 0
    at the bounds themselves (PyTorch's choice for hardtanh and relu6)."""
    inside = (input > min_val) & (input < max_val)
    return ops.where(inside, input, ops.clamp(input, min_val, max_val).detach())


def relu6(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """min(max(x, 0), 6)."""
    return hardtanh(input, 0.0, 6.0)


def _softmax_dim(ndim: int) -> int:
    # PyTorch's legacy rule for a missing dim
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None, dtype=None) -> Tensor:  # noqa: A002
    """exp(x_i) / sum_j exp(x_j) along ``dim`` (computed stably)."""
    return ops.softmax(input, _softmax_dim(input.ndim) if dim is None else dim, dtype)


def log_softmax(input: Tensor, dim: int | None = None, dtype=None) -> Tensor:  # noqa: A002
    """x_i - log sum_j exp(x_j) along ``dim`` (computed stably)."""
    return ops.log_softmax(input, _softmax_dim(input.ndim) if dim is None else dim, dtype)
