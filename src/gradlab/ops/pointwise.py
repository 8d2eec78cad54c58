"""More pointwise math, PyTorch's names: fused updates (addcmul, addcdiv,
lerp), remainders (fmod, remainder, frac), and functions with their own
gradient rules (hypot, logaddexp, copysign, nan_to_num, logit, xlogy).

Compositions of existing ops get their gradients from those ops; the
primitives below follow PyTorch's ``derivatives.yaml``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradlab import backend
from gradlab.autograd.node import Op
from gradlab.ops._util import floating, operands
from gradlab.ops.elementwise import (
    MulConst,
    _Binary,
    clamp,
    div,
    sigmoid,
    sub,
    trunc,
    where,
)
from gradlab.tensor import Tensor


def _float_pair(a: Any, b: Any, name: str) -> tuple[Tensor, Tensor]:
    a, b = operands(a, b, name)
    return floating(a), floating(b)


# ------------------------------------------------------------ primitives
class Fmod(_Binary):
    """a - trunc(a / b) b, sign of a: d/da = 1, d/db = -trunc(a / b)."""

    def forward(self, a, b):
        return backend.array_module(a).fmod(a, b)

    def backward(self, g):
        a, b = self.inputs
        return (g if a._rg else None), (-g * div(a, b, rounding_mode="trunc") if b._rg else None)


class Remainder(_Binary):
    """a - floor(a / b) b, sign of b: d/da = 1, d/db = -floor(a / b)."""

    def forward(self, a, b):
        return backend.array_module(a).remainder(a, b)

    def backward(self, g):
        a, b = self.inputs
        return (g if a._rg else None), (-g * div(a, b, rounding_mode="floor") if b._rg else None)


class Hypot(_Binary):
    """sqrt(a^2 + b^2) without overflow: d/da = a / out, d/db = b / out."""

    def forward(self, a, b):
        self.out = backend.array_module(a).hypot(a, b)
        return self.out

    def backward(self, g):
        a, b = self.inputs
        out = self.output()
        return (g * a / out if a._rg else None), (g * b / out if b._rg else None)


class LogAddExp(_Binary):
    """log(e^a + e^b): d/da = sigmoid(a - b), d/db = sigmoid(b - a)."""

    def forward(self, a, b):
        return backend.array_module(a).logaddexp(a, b)

    def backward(self, g):
        a, b = self.inputs
        return (g * sigmoid(a - b) if a._rg else None), (g * sigmoid(b - a) if b._rg else None)


class CopySign(_Binary):
    """|a| with the sign of b: d/da = out / a (0 where a = 0), d/db = 0."""

    def forward(self, a, b):
        self.out = backend.array_module(a).copysign(a, b)
        return self.out

    def backward(self, g):
        a, b = self.inputs
        ga = where(a == 0, 0.0, g * self.output() / a) if a._rg else None
        return ga, (g * 0.0 if b._rg else None)


class XLogY(_Binary):
    """x log y, 0 where x = 0 (and y is not nan): d/dx = log y (0 where
    x = 0 and y <= 0), d/dy = x / y, as PyTorch."""

    def forward(self, x, y):
        xp = backend.array_module(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            return xp.where((x == 0) & ~xp.isnan(y), 0.0, x * xp.log(y)).astype(x.dtype, copy=False)

    def backward(self, g):
        x, y = self.inputs
        gx = where((x == 0) & (y <= 0), 0.0, XLogY.apply(g, y)) if x._rg else None
        return gx, (g * x / y if y._rg else None)


class Logit(Op):
    """log(z / (1 - z)), z = x clamped to [eps, 1 - eps] when eps is given:
    d/dx = 1 / (x (1 - x)), 0 outside [eps, 1 - eps] (nan outside [0, 1]
    without eps), as PyTorch."""

    def forward(self, x):
        xp = backend.array_module(x)
        z = x if self.eps is None else xp.clip(x, self.eps, 1.0 - self.eps)
        with np.errstate(divide="ignore", invalid="ignore"):
            return xp.log(z / (1.0 - z))

    def backward(self, g):
        (x,) = self.inputs
        grad = g / (x * (1.0 - x))
        if self.eps is None:
            return where((x < 0) | (x > 1), float("nan"), grad)
        return where((x < self.eps) | (x > 1.0 - self.eps), 0.0, grad)


class NanToNum(Op):
    """nan, +inf and -inf replaced by numbers; the gradient passes where x
    is finite."""

    reads_inputs = False

    def forward(self, x):
        xp = backend.array_module(x)
        self.finite = xp.isfinite(x)
        return xp.nan_to_num(x, nan=self.nan, posinf=self.posinf, neginf=self.neginf)

    def backward(self, g):
        return MulConst.apply(g, c=self.finite)


# ------------------------------------------------------------- functions
def addcmul(input: Tensor, tensor1: Any, tensor2: Any, *, value: float = 1) -> Tensor:  # noqa: A002
    """input + value * tensor1 * tensor2."""
    prod = tensor1 * tensor2
    return input + (prod if value == 1 else value * prod)


def addcdiv(input: Tensor, tensor1: Any, tensor2: Any, *, value: float = 1) -> Tensor:  # noqa: A002
    """input + value * tensor1 / tensor2 (float division only)."""
    kinds = [t.array.dtype.kind for t in (tensor1, tensor2) if isinstance(t, Tensor)]
    if kinds and all(k in "biu" for k in kinds):
        raise RuntimeError(
            "Integer division with addcdiv is no longer supported, and in a future "
            "release addcdiv will perform a true division of tensor1 and tensor2; "
            "convert tensor1 or tensor2 to a floating point dtype"
        )
    quot = tensor1 / tensor2
    return input + (quot if value == 1 else value * quot)


def lerp(input: Tensor, end: Any, weight: Any) -> Tensor:  # noqa: A002
    """input + weight (end - input), computed as end - (end - input)(1 - weight)
    where |weight| >= 0.5 (PyTorch's formula, exact at weight = 1)."""
    if input.array.dtype.kind != "f":
        raise RuntimeError(f"lerp: expected a floating point input, got dtype {input.dtype}")
    diff = end - input
    if not isinstance(weight, Tensor):
        if not isinstance(weight, (int, float)) or isinstance(weight, bool):
            raise TypeError(f"lerp: weight must be a number or a Tensor, got {weight!r}")
        return input + weight * diff if abs(weight) < 0.5 else end - diff * (1.0 - weight)
    return where(weight.abs() < 0.5, input + weight * diff, end - diff * (1.0 - weight))


def clamp_min(input: Tensor, min: Any) -> Tensor:  # noqa: A002
    """max(input, min), elementwise."""
    return clamp(input, min=min)


def clamp_max(input: Tensor, max: Any) -> Tensor:  # noqa: A002
    """min(input, max), elementwise."""
    return clamp(input, max=max)


def frac(input: Tensor) -> Tensor:  # noqa: A002
    """input - trunc(input): the fractional part, sign of input; gradient 1."""
    if input.array.dtype.kind != "f":
        raise RuntimeError(f"frac: expected a floating point input, got dtype {input.dtype}")
    return input - trunc(input)


def fmod(input: Any, other: Any) -> Tensor:  # noqa: A002
    """The C remainder of input / other: sign of input."""
    return Fmod.call(input, other, "fmod")


def remainder(input: Any, other: Any) -> Tensor:  # noqa: A002
    """The Python remainder of input / other: sign of other."""
    return Remainder.call(input, other, "remainder")


def hypot(input: Tensor, other: Any) -> Tensor:  # noqa: A002
    """sqrt(input^2 + other^2), elementwise."""
    return Hypot.call(*_float_pair(input, other, "hypot"), "hypot")


def logaddexp(input: Tensor, other: Any) -> Tensor:  # noqa: A002
    """log(exp(input) + exp(other)), without overflow."""
    return LogAddExp.call(*_float_pair(input, other, "logaddexp"), "logaddexp")


def copysign(input: Any, other: Any) -> Tensor:  # noqa: A002
    """|input| with the sign of other (a float result)."""
    return CopySign.call(*_float_pair(input, other, "copysign"), "copysign")


def xlogy(input: Any, other: Any) -> Tensor:  # noqa: A002
    """input * log(other), 0 where input = 0 (unless other is nan)."""
    return XLogY.call(*_float_pair(input, other, "xlogy"), "xlogy")


def rsub(input: Tensor, other: Any, *, alpha: float = 1) -> Tensor:  # noqa: A002
    """other - alpha * input."""
    return sub(other, input, alpha=alpha)


def logit(input: Tensor, eps: float | None = None) -> Tensor:  # noqa: A002
    """log(z / (1 - z)) with z = input, clamped to [eps, 1 - eps] if eps is given."""
    if eps is not None and not (isinstance(eps, (int, float)) and 0 <= eps <= 0.5):
        raise ValueError(f"logit: eps must be None or a number in [0, 0.5], got {eps!r}")
    return Logit.apply(floating(input), eps=None if eps is None else float(eps))


def nan_to_num(input: Tensor, nan: float = 0.0, posinf: float | None = None,  # noqa: A002
               neginf: float | None = None) -> Tensor:
    """nan -> ``nan``, +inf -> ``posinf``, -inf -> ``neginf`` (by default the
    largest and the lowest finite value of the dtype)."""
    if input.array.dtype.kind != "f":
        return input.clone()
    info = np.finfo(input.array.dtype)
    return NanToNum.apply(input, nan=float(nan),
                          posinf=float(info.max) if posinf is None else float(posinf),
                          neginf=float(info.min) if neginf is None else float(neginf))


__all__ = ["addcdiv", "addcmul", "clamp_max", "clamp_min", "copysign", "fmod", "frac",
           "hypot", "lerp", "logaddexp", "logit", "nan_to_num", "remainder", "rsub", "xlogy"]
