"""Products and running sums and products along a dimension: ``prod``,
``cumsum``, ``cumprod``.

``Cumsum`` is a primitive whose backward is a reversed running sum,

    y_i = sum_{j<=i} x_j,    dL/dx_k = sum_{i>=k} g_i.

``Prod`` and ``Cumprod`` are primitives whose backward rules are written with
differentiable ops. The derivative of a product by one factor is the product
of the *other* factors, which is out / x_k only where no factor is zero; with
zeros it is the product of the factors before times the product of those
after (two exclusive running products), as PyTorch computes it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradlab import backend
from gradlab.autograd.node import Op
from gradlab.ops._util import constant, dims, keepdim_shape
from gradlab.ops.elementwise import where
from gradlab.ops.movement import cat
from gradlab.tensor import Tensor, _wrap_dim


class Cumsum(Op):
    reads_inputs = False

    def forward(self, x):
        return backend.array_module(x).cumsum(x, axis=self.axis)

    def backward(self, g):
        return g.flip(self.axis).cumsum(self.axis).flip(self.axis)


class Prod(Op):
    def forward(self, x):
        return backend.array_module(x).prod(x, axis=self.axes, keepdims=self.keepdim)

    def backward(self, g):
        (x,) = self.inputs
        if not self.keepdim:
            g = g.reshape(keepdim_shape(x.shape, self.axes))
        return g * _product_of_others(x, self.axes)


class Cumprod(Op):
    def forward(self, x):
        return backend.array_module(x).cumprod(x, axis=self.axis)

    def backward(self, g):
        (x,) = self.inputs
        d = self.axis
        if not (x.array == 0).any():
            # dL/dx_k = sum_{i>=k} g_i y_i / x_k
            y = cumprod(x, d)
            return (g * y).flip(d).cumsum(d).flip(d) / x
        # With zeros, y_i = prod_k M[i, k] with M[i, k] = x_k for k <= i, else 1,
        # and dy_i/dx_k is the product of the others in row i: an n-by-n
        # composition, only taken when a zero is present.
        xm, gm = x.movedim(d, -1), g.movedim(d, -1)
        n = xm.shape[-1]
        xp = backend.array_module(x.array)
        lower = Tensor._make(xp.tril(xp.ones((n, n), dtype=bool)))
        m = where(lower, xm.unsqueeze(-2), constant(1, x, dtype=x.dtype))
        others = where(lower, _product_of_others(m, (m.ndim - 1,)), constant(0, x, dtype=x.dtype))
        return (gm.unsqueeze(-1) * others).sum(-2).movedim(-1, d)


def _product_of_others(x: Tensor, axes: tuple[int, ...]) -> Tensor:
    """For every element, the product of the other elements of its slice
    along ``axes`` (the derivative of the slice's product by it).

    Without zeros that is prod / x_k. With zeros it is the product of the
    elements before k times the product of those after (exclusive running
    products from both ends), which stays right for gradients of gradients.
    """
    if not (x.array == 0).any():
        return Prod.apply(x, axes=axes, keepdim=True) / x
    if not axes:
        return x * 0 + 1
    last = tuple(range(x.ndim - len(axes), x.ndim))
    moved = x.movedim(axes, last)
    flat = moved.reshape(tuple(moved.shape[:x.ndim - len(axes)]) + (-1,))
    one = constant(1, x, dtype=x.dtype).expand(tuple(flat.shape[:-1]) + (1,))
    before = cat([one, flat[..., :-1].cumprod(-1)], -1)
    after = cat([one, flat.flip(-1)[..., :-1].cumprod(-1)], -1).flip(-1)
    return (before * after).reshape(moved.shape).movedim(last, axes)


def _accumulate_dtype(x: Tensor, dtype: Any) -> Tensor:
    """Integer and bool tensors accumulate in int64, as in PyTorch."""
    if dtype is not None:
        return x.to(dtype)
    if x.array.dtype.kind in "biu" and x.array.dtype != np.int64:
        return x.to("int64")
    return x


def cumsum(x: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """Running sum along ``dim``: y_i = x_0 + ... + x_i."""
    x = _accumulate_dtype(x, dtype)
    if x.ndim == 0:
        _wrap_dim(dim, 0)
        return x.clone()
    return Cumsum.apply(x, axis=_wrap_dim(dim, x.ndim))


def cumprod(x: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """Running product along ``dim``: y_i = x_0 * ... * x_i."""
    x = _accumulate_dtype(x, dtype)
    if x.ndim == 0:
        _wrap_dim(dim, 0)
        return x.clone()
    return Cumprod.apply(x, axis=_wrap_dim(dim, x.ndim))


def prod(x: Tensor, dim: int | None = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """Product of all elements, or along ``dim`` (an int, as in PyTorch)."""
    x = _accumulate_dtype(x, dtype)
    if dim is not None and not isinstance(dim, (int, np.integer)):
        raise TypeError(f"prod(): dim must be an int or None, got {dim!r}")
    return Prod.apply(x, axes=dims(dim, x.ndim), keepdim=keepdim and dim is not None)
