"""Indexing: ``x[index]`` (basic and advanced), gather, scatter_add,
index_select, masked_fill and one_hot.

Two primitives do all the work and are each other's backward:

* ``Getitem``: y = x[index];
* ``IndexAdd``: y = zeros(shape); y[index] += v, accumulating where an
  advanced index repeats a position (so the gradient of ``x[[0, 0]]`` at
  ``x[0]`` is the sum of both incoming gradients).

``gather`` and ``scatter_add`` turn their ``(dim, index)`` pair into an
advanced index and reuse them.
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from gradlab import backend
from gradlab.autograd.node import Op
from gradlab.tensor import Tensor, _wrap_dim

_BASIC = (int, np.integer, slice, type(None), type(Ellipsis))


class Getitem(Op):
    reads_inputs = False

    def forward(self, x):
        self.shape = x.shape
        if self.basic:
            # an Ellipsis makes NumPy return a 0-d view where it would return
            # a scalar copy (x[0] of a vector): PyTorch's x[0] is a view,
            # which an in-place op writes through
            index = self.index if isinstance(self.index, tuple) else (self.index,)
            if Ellipsis not in index:
                return x[index + (Ellipsis,)]
        return x[self.index]

    def backward(self, g):
        return IndexAdd.apply(g, index=self.index, shape=self.shape, basic=self.basic)


class IndexAdd(Op):
    reads_inputs = False

    def forward(self, v):
        z = backend.array_module(v).zeros(self.shape, dtype=v.dtype)
        if self.basic:
            z[self.index] = v  # a basic index never repeats a position
        else:
            backend.add_at(z, self.index, v)
        return z

    def backward(self, g):
        return Getitem.apply(g, index=self.index, basic=self.basic)


def as_index(index: Any, xp: Any = np) -> Any:
    """An index with its Tensors replaced by arrays of the backend ``xp``."""
    if isinstance(index, tuple):
        return tuple(as_index(i, xp) for i in index)
    if isinstance(index, Tensor):
        index = index.array
        if xp is not np or not isinstance(index, np.ndarray):
            index = xp.asarray(index)
        if index.dtype.kind == "f":
            raise IndexError(
                f"tensors used as indices must be long, int, byte or bool tensors, got {index.dtype}"
            )
    elif isinstance(index, list):
        if any(isinstance(i, Tensor) for i in index):
            index = [i.item() if isinstance(i, Tensor) else i for i in index]
        index = xp.asarray(index)
        if index.dtype.kind == "f":
            raise IndexError(f"a list used as an index must hold integers, got {index.dtype}")
    elif xp is not np and isinstance(index, np.ndarray):
        index = xp.asarray(index)
    return index


def getitem(x: Tensor, index: Any) -> Tensor:
    """``x[index]``: basic (ints, slices, None, ...) and advanced (integer or
    boolean arrays, lists, Tensors) indexing with NumPy's semantics, except
    where PyTorch's differ: where the dimensions of advanced indices go when
    an int or an Ellipsis sits between them (see :func:`_ints_first` and
    :func:`_without_ellipsis`)."""
    items = index if isinstance(index, tuple) else (index,)
    basic = all(isinstance(i, _BASIC) and not isinstance(i, bool) for i in items)
    if not basic:
        index = as_index(index, backend.array_module(x.array))
        if isinstance(index, tuple):
            index = _without_ellipsis(index, x.ndim)
        steps = _ints_first(index) if isinstance(index, tuple) else None
        if steps is not None:
            return getitem(getitem(x, steps[0]), steps[1])
    return Getitem.apply(x, index=index, basic=basic)


def _without_ellipsis(index: tuple, ndim: int) -> tuple:
    """``index`` with its Ellipsis written out as full slices. NumPy takes an
    Ellipsis that covers no dimension as separating the advanced indices on
    either side (so their dimension goes first: ``x[[0, 1], ..., [1, 2]]``
    of a (3, 4) array with a None in front has shape (2, 1)); PyTorch does
    not (shape (1, 2))."""
    at = [k for k, item in enumerate(index) if item is Ellipsis]
    if len(at) != 1:
        return index  # none, or several: NumPy raises
    used = 0
    for item in index:
        if item is None or item is Ellipsis or isinstance(item, bool):
            continue
        is_mask = getattr(item, "dtype", None) is not None and item.dtype.kind == "b"
        used += item.ndim if is_mask else 1
    return index[:at[0]] + (slice(None),) * builtins.max(ndim - used, 0) + index[at[0] + 1:]


def _is_int(item: Any) -> bool:
    if isinstance(item, (int, np.integer)):
        return not isinstance(item, bool)
    return getattr(item, "ndim", None) == 0 and item.dtype.kind in "iu"


def _ints_first(index: tuple) -> tuple | None:
    """PyTorch applies integer indices (and 0-d integer tensors) before the
    advanced ones, so ``x[1, :, [0, 2]]`` with x of shape (4, 5, 6) has shape
    (5, 2); NumPy broadcasts the int with the list as two advanced indices
    separated by a slice and puts their dimension first, giving (2, 5).

    Returns a basic index (the ints, slices, None and Ellipsis, with a full
    slice for each dimension an advanced index covers) and the advanced index
    to apply to its result, or None when the index has no int to move.
    """
    if not builtins.any(_is_int(i) for i in index) or builtins.any(isinstance(i, bool) for i in index):
        return None
    first, second = [], []
    for item in index:
        if _is_int(item):
            first.append(int(item))  # the dimension is gone from the result
        elif item is None or isinstance(item, slice):
            first.append(item)
            second.append(slice(None))
        elif item is Ellipsis:
            first.append(item)
            second.append(item)
        else:  # a boolean mask covers as many dimensions as it has
            covered = item.ndim if item.dtype.kind == "b" else 1
            first.extend([slice(None)] * covered)
            second.append(item)
    return tuple(first), tuple(second)


def _along(index: Tensor, dim: int, what: str, x: Tensor) -> tuple:
    """The advanced index that picks ``x[..., index[i,j,k], ...]`` at position
    (i, j, k) with ``index`` in dimension ``dim``, as gather/scatter use."""
    if not isinstance(index, Tensor) or index.array.dtype.kind not in "iu":
        raise TypeError(f"{what}: index must be an integer Tensor, got "
                        f"{getattr(index, 'dtype', type(index).__name__)}")
    if index.ndim != x.ndim:
        raise RuntimeError(
            f"{what}: index tensor must have the same number of dimensions as "
            f"input ({x.ndim}), got {index.ndim}"
        )
    d = _wrap_dim(dim, x.ndim)
    for i, (n, m) in enumerate(zip(index.shape, x.shape)):
        if i != d and n > m:
            raise RuntimeError(
                f"{what}: size of index {tuple(index.shape)} exceeds the input "
                f"{tuple(x.shape)} in dimension {i}"
            )
    xp = backend.array_module(x.array)
    idx = index.array if xp is np else xp.asarray(index.array)
    if idx.size:
        # PyTorch takes no negative index here, and raises RuntimeError
        low, high = int(idx.min()), int(idx.max())
        if low < 0 or high >= x.shape[d]:
            raise RuntimeError(
                f"{what}: index {low if low < 0 else high} is out of bounds for "
                f"dimension {d} with size {x.shape[d]}"
            )
    parts = []
    for i, n in enumerate(index.shape):
        if i == d:
            parts.append(idx)
        else:
            shape = [1] * index.ndim
            shape[i] = n
            parts.append(xp.arange(n).reshape(shape))
    return tuple(parts)


def gather(x: Tensor, dim: int, index: Tensor) -> Tensor:
    """out[i][j][k] = x[index[i][j][k]][j][k] (for dim 0; likewise for others)."""
    return Getitem.apply(x, index=_along(index, dim, "gather", x), basic=False)


def scatter_add(x: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """A copy of ``x`` with out[index[i][j][k]][j][k] += src[i][j][k] (for
    dim 0), repeated positions accumulating."""
    idx = _along(index, dim, "scatter_add", x)
    if src.shape != index.shape:
        if src.ndim != index.ndim or any(s < n for s, n in zip(src.shape, index.shape)):
            raise RuntimeError(
                f"scatter_add: src {tuple(src.shape)} must be at least as large "
                f"as index {tuple(index.shape)} in every dimension"
            )
        src = src[tuple(slice(0, n) for n in index.shape)]
    return x + IndexAdd.apply(src.to(x.dtype), index=idx, shape=x.shape, basic=False)


def index_select(x: Tensor, dim: int, index: Tensor) -> Tensor:
    """The entries of ``x`` at positions ``index`` (a vector; a 0-d index
    counts as one position and keeps the dimension) along ``dim``."""
    if not isinstance(index, Tensor) or index.array.dtype.kind not in "iu":
        raise TypeError(f"index_select: index must be an integer Tensor, got "
                        f"{getattr(index, 'dtype', type(index).__name__)}")
    if index.ndim > 1:
        raise IndexError(f"index_select: index must be a vector, got shape {tuple(index.shape)}")
    d = _wrap_dim(dim, x.ndim)
    n = x.shape[d] if x.ndim else 1
    if index.array.size and (int(index.array.min()) < 0 or int(index.array.max()) >= n):
        bad = int(index.array.min()) if int(index.array.min()) < 0 else int(index.array.max())
        raise RuntimeError(f"index_select: index {bad} is out of bounds for dimension {d} with size {n}")
    return getitem(x, (slice(None),) * d + (index.reshape(-1),))


def masked_fill(x: Tensor, mask: Any, value: Any) -> Tensor:
    """``x`` with ``value`` where the boolean ``mask`` (broadcast to x) holds.
    The value takes x's dtype, as in PyTorch (an int64 tensor filled with
    2.5 holds 2); a 0-d tensor value receives a gradient."""
    from gradlab.ops._util import constant
    from gradlab.ops.elementwise import where

    m = mask.array if isinstance(mask, Tensor) else mask
    if getattr(m, "dtype", None) is not None and m.dtype.kind != "b":
        raise RuntimeError(f"masked_fill only supports boolean masks, but got mask with dtype {m.dtype}")
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError("masked_fill only supports a 0-dimensional value tensor, but got "
                               f"one of shape {tuple(value.shape)}")
        value = value.to(x.dtype)
    else:
        value = constant(value, x, dtype=x.dtype)
    return where(mask, value, x)


def one_hot(x: Tensor, num_classes: int = -1) -> Tensor:
    """Integer class indices of shape (*) to int64 one-hot vectors of shape
    (*, num_classes)."""
    if x.array.dtype.kind not in "iu":
        raise TypeError(f"one_hot is only applicable to index tensors, got dtype {x.dtype}")
    xp = backend.array_module(x.array)
    if num_classes == -1:
        if x.array.size == 0:
            raise RuntimeError("one_hot: can not infer total number of classes from empty tensor")
        num_classes = int(x.array.max()) + 1
    if x.array.size and (x.array.min() < 0 or x.array.max() >= num_classes):
        raise RuntimeError(
            f"one_hot: class values must be in [0, num_classes={num_classes}), got "
            f"values from {int(x.array.min())} to {int(x.array.max())}"
        )
    out = xp.zeros(x.shape + (num_classes,), dtype=np.int64)
    xp.put_along_axis(out, x.array[..., None].astype(np.int64), 1, axis=-1)
    return Tensor._make(out)
