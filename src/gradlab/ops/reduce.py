"""Reductions over dimensions: sum, mean, var, std, max, min, argmax, ...

Every reduction takes PyTorch's ``dim`` (None, an int or a sequence, possibly
negative) and ``keepdim``. ``sum`` and ``amax``/``amin`` are primitives; the
rest are composed from them, so their gradients (and gradients of gradients)
come from the chain rule.
"""

from __future__ import annotations

import builtins
from collections import namedtuple
from typing import Any

from gradlab import backend
from gradlab.autograd.node import Op
from gradlab.ops._util import dims, keepdim_shape
from gradlab.ops.elementwise import MulConst, where
from gradlab.tensor import Tensor, _wrap_dim

values_indices = namedtuple("values_indices", ["values", "indices"])


class Sum(Op):
    reads_inputs = False

    def forward(self, x):
        self.shape = x.shape
        return backend.array_module(x).sum(x, axis=self.axes, keepdims=self.keepdim)

    def backward(self, g):
        if not self.keepdim:
            g = g.reshape(keepdim_shape(self.shape, self.axes))
        return g.expand(self.shape)


class AMax(Op):
    """max over ``axes``; the gradient is shared evenly among ties (as
    PyTorch's amax/amin and full max/min)."""

    reads_inputs = False

    def forward(self, x):
        xp = backend.array_module(x)
        fn = xp.amax if self.largest else xp.amin
        out = fn(x, axis=self.axes, keepdims=True)
        hit = x == out
        self.share = hit / hit.sum(axis=self.axes, keepdims=True)
        self.shape = x.shape
        return out if self.keepdim else out.reshape(
            [s for i, s in enumerate(x.shape) if i not in self.axes])

    def backward(self, g):
        if not self.keepdim:
            g = g.reshape(keepdim_shape(self.shape, self.axes))
        return MulConst.apply(g, c=self.share.astype(g.array.dtype, copy=False))


class StdSqrt(Op):
    """sqrt for :func:`std`: d/dv sqrt(v) = 1 / (2 sqrt(v)), and 0 where v = 0."""

    def forward(self, v):
        self.out = backend.array_module(v).sqrt(v)
        return self.out

    def backward(self, g):
        out = self.output()
        zero = Tensor._make(self.out == 0)
        # the inner where keeps inf out of the graph, so double backward is finite too
        return where(zero, 0.0, g / (2.0 * where(zero, 1.0, out)))


def sum(x: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:  # noqa: A001
    """Sum over ``dim`` (all dimensions if None). Integer and bool tensors sum
    to int64, as in PyTorch."""
    if dtype is not None:
        x = x.to(dtype)
    elif x.array.dtype.kind in "biu" and x.array.dtype != "int64":
        x = x.to("int64")
    return Sum.apply(x, axes=dims(dim, x.ndim), keepdim=keepdim)


def mean(x: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """Arithmetic mean over ``dim``."""
    if dtype is not None:
        x = x.to(dtype)
    if x.array.dtype.kind != "f":
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be a "
            f"floating point dtype, but got {x.dtype}"
        )
    axes = dims(dim, x.ndim)
    n = 1
    for a in axes:
        n *= x.shape[a]
    return sum(x, axes, keepdim) / n


def var(x: Tensor, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False,
        *, correction: float | None = None) -> Tensor:
    """Variance sum((x - mean)^2) / (N - correction); ``correction=1`` (the
    default, or ``unbiased=True``) is Bessel's correction."""
    if unbiased is not None and correction is not None:
        raise ValueError("var: give at most one of 'unbiased' and 'correction'")
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    if x.array.dtype.kind != "f":
        raise RuntimeError(f"std and var only support floating point dtypes, got {x.dtype}")
    axes = dims(dim, x.ndim)
    n = 1
    for a in axes:
        n *= x.shape[a]
    d = x - mean(x, axes, keepdim=True)
    return sum(d * d, axes, keepdim) / builtins.max(n - correction, 0)


def std(x: Tensor, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False,
        *, correction: float | None = None) -> Tensor:
    """Square root of :func:`var`. Where the standard deviation is 0 its
    gradient is taken as 0, as PyTorch does (sqrt's would be inf, and inf
    times var's zero gradient nan)."""
    return StdSqrt.apply(var(x, dim, unbiased, keepdim, correction=correction))


def amax(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    return _extreme(x, dim, keepdim, largest=True)


def amin(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    return _extreme(x, dim, keepdim, largest=False)


def _extreme(x: Tensor, dim: Any, keepdim: bool, largest: bool) -> Tensor:
    name = "max" if largest else "min"
    if dim is None and x.array.size == 0:
        raise RuntimeError(f"{name}(): cannot reduce an empty tensor of shape {tuple(x.shape)} "
                           "without a dim")
    axes = dims(dim, x.ndim)
    for a in axes:  # an empty tensor reduces fine over its non-empty dimensions
        if x.shape[a] == 0:
            raise IndexError(f"{name}(): cannot reduce over dimension {a} of size 0 "
                             f"(input of shape {tuple(x.shape)})")
    return AMax.apply(x, axes=axes, keepdim=keepdim, largest=largest)


def max(x: Tensor, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A001
    """``max(x)``: the largest element. ``max(x, dim)``: a named tuple
    (values, indices) along ``dim``; the gradient goes to the index chosen
    (the first maximum). ``max(x, other_tensor)``: :func:`maximum`."""
    return _max_min(x, dim, keepdim, largest=True)


def min(x: Tensor, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A001
    """As :func:`max`, for the smallest elements."""
    return _max_min(x, dim, keepdim, largest=False)


def _max_min(x: Tensor, dim: Any, keepdim: bool, largest: bool) -> Any:
    if isinstance(dim, Tensor):
        return x.maximum(dim) if largest else x.minimum(dim)
    if dim is None:
        return _extreme(x, None, False, largest)
    if x.ndim == 0:
        _wrap_dim(dim, 0)  # only 0 and -1 name the dimension of a 0-d tensor
        index = backend.array_module(x.array).zeros((), dtype="int64")
        return values_indices(x.clone(), Tensor._make(index))
    index = (argmax if largest else argmin)(x, dim, keepdim=True)
    values = x.gather(dim, index)
    if not keepdim:
        values, index = values.squeeze(dim), index.squeeze(dim)
    return values_indices(values, index)


def argmax(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index of the (first) largest element, over the flattened tensor if
    ``dim`` is None."""
    return _arg(x, dim, keepdim, "argmax")


def argmin(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    return _arg(x, dim, keepdim, "argmin")


def _arg(x: Tensor, dim: int | None, keepdim: bool, fn: str) -> Tensor:
    xp = backend.array_module(x.array)
    if dim is None:
        if x.array.size == 0:
            raise IndexError(f"{fn}(): expected a dim to be specified for an empty input "
                             f"of shape {tuple(x.shape)}")
        out = getattr(xp, fn)(x.array)
        if keepdim:
            out = xp.asarray(out).reshape((1,) * x.ndim)
        return Tensor._make(xp.asarray(out, dtype="int64"))
    (axis,) = dims(dim, x.ndim) or (0,)
    if x.array.shape and x.array.shape[axis] == 0:
        raise IndexError(f"{fn}(): dimension {dim} of shape {tuple(x.shape)} is empty")
    out = getattr(xp, fn)(x.array, axis=axis, keepdims=keepdim) if x.ndim else xp.asarray(0)
    return Tensor._make(out.astype("int64", copy=False))
