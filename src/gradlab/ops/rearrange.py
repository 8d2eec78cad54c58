"""Rearranging elements, composed from slicing, indexing and ``cat`` (so
their gradients come from those ops' rules): ``narrow``, ``roll``,
``movedim``, ``tril``/``triu``, ``diag``/``diagonal``, ``repeat_interleave``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from gradlab import backend
from gradlab.ops._util import constant
from gradlab.ops.elementwise import where
from gradlab.ops.indexing import IndexAdd, getitem
from gradlab.ops.movement import cat, permute, reshape
from gradlab.tensor import Tensor, _wrap_dim


def narrow(x: Tensor, dim: int, start: int, length: int) -> Tensor:
    """``x`` restricted to ``start .. start + length - 1`` along ``dim`` (a
    negative ``start`` counts from the end)."""
    if x.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor")
    d = _wrap_dim(dim, x.ndim)
    size = x.shape[d]
    start = int(start)
    if not -size <= start <= size:
        raise IndexError(f"narrow(): start ({start}) out of range for dimension {d} of size {size}")
    start %= size if size else 1
    if length < 0 or start + length > size:
        raise RuntimeError(f"narrow(): start ({start}) + length ({length}) exceeds dimension "
                           f"size ({size})")
    return getitem(x, (slice(None),) * d + (slice(start, start + length),))


def movedim(x: Tensor, source: int | Sequence[int], destination: int | Sequence[int]) -> Tensor:
    """Move the dimensions ``source`` to the positions ``destination``; the
    others keep their order."""
    src = [source] if isinstance(source, (int, np.integer)) else list(source)
    dst = [destination] if isinstance(destination, (int, np.integer)) else list(destination)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: source {src} and destination {dst} must have the same length")
    src = [_wrap_dim(d, x.ndim) for d in src]
    dst = [_wrap_dim(d, x.ndim) for d in dst]
    if len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise RuntimeError(f"movedim: repeated dim in source {src} or destination {dst}")
    rest = iter(d for d in range(x.ndim) if d not in src)
    placed = dict(zip(dst, src))
    order = [placed[i] if i in placed else next(rest) for i in range(x.ndim)]
    return permute(x, *order) if x.ndim else x


def roll(x: Tensor, shifts: int | Sequence[int], dims: int | Sequence[int] | None = None) -> Tensor:
    """Shift elements cyclically by ``shifts`` along ``dims`` (over the
    flattened tensor when ``dims`` is None)."""
    if dims is None:
        if not isinstance(shifts, (int, np.integer)) and len(shifts) != 1:
            raise RuntimeError(f"roll: shifts {shifts} must be one int when dims is None")
        shift = shifts if isinstance(shifts, (int, np.integer)) else shifts[0]
        return roll(x.flatten(), shift, 0).reshape(x.shape)
    shifts = [shifts] if isinstance(shifts, (int, np.integer)) else list(shifts)
    dims = [dims] if isinstance(dims, (int, np.integer)) else list(dims)
    if len(shifts) != len(dims):
        raise RuntimeError(f"roll: shifts {shifts} and dims {dims} must have the same length")
    out = x
    for shift, dim in zip(shifts, dims):
        d = _wrap_dim(dim, x.ndim)
        n = x.shape[d]
        k = int(shift) % n if n else 0
        if k:
            lead = (slice(None),) * d
            out = cat([getitem(out, lead + (slice(n - k, n),)), getitem(out, lead + (slice(0, n - k),))], d)
    return out


def _triangle(x: Tensor, diagonal: int, lower: bool, name: str) -> Tensor:
    if x.ndim < 2:
        raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions, got {x.ndim}")
    xp = backend.array_module(x.array)
    rows, cols = x.shape[-2:]
    keep = xp.tri(rows, cols, diagonal, dtype=bool)
    if not lower:
        keep = ~xp.tri(rows, cols, diagonal - 1, dtype=bool)
    # where, not a product with the mask: inf outside the triangle gives 0, not nan
    return where(Tensor._make(keep), x, constant(0, x, dtype=x.dtype))


def tril(x: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle of the last two dimensions (elements on and below
    the ``diagonal``-th diagonal); the rest set to 0."""
    return _triangle(x, diagonal, True, "tril")


def triu(x: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle of the last two dimensions (on and above the
    ``diagonal``-th diagonal); the rest set to 0."""
    return _triangle(x, diagonal, False, "triu")


def _diagonal_index(rows: int, cols: int, offset: int, xp: Any) -> tuple:
    n = max(0, min(rows, cols - offset) if offset >= 0 else min(rows + offset, cols))
    r = xp.arange(n) + max(-offset, 0)
    return r, r + offset


def diagonal(x: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The ``offset``-th diagonal of the (dim1, dim2) planes, as the last
    dimension of the result (as ``torch.diagonal``)."""
    d1, d2 = _wrap_dim(dim1, x.ndim), _wrap_dim(dim2, x.ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal: dim1 and dim2 cannot be identical, got {dim1} and {dim2}")
    moved = movedim(x, (d1, d2), (-2, -1))
    r, c = _diagonal_index(*moved.shape[-2:], offset, backend.array_module(x.array))
    return getitem(moved, (Ellipsis, Tensor._make(r), Tensor._make(c)))


def diag(x: Tensor, diagonal: int = 0) -> Tensor:
    """A vector as the ``diagonal``-th diagonal of a square matrix, or a
    matrix's ``diagonal``-th diagonal as a vector."""
    if x.ndim == 1:
        n = x.shape[0] + abs(diagonal)
        r, c = _diagonal_index(n, n, diagonal, backend.array_module(x.array))
        return IndexAdd.apply(x, index=(r, c), shape=(n, n), basic=False)
    if x.ndim == 2:
        return globals()["diagonal"](x, diagonal)
    raise RuntimeError(f"diag(): supports 1D or 2D tensors, got a {x.ndim}D tensor")


def repeat_interleave(x: Tensor, repeats: Any = None, dim: int | None = None, *,
                      output_size: int | None = None) -> Tensor:
    """Repeat each element ``repeats`` times (an int, or one count per
    element) along ``dim`` (over the flattened tensor when None).
    ``repeat_interleave(counts)`` alone gives ``[0]*counts[0] + [1]*counts[1] + ...``."""
    if repeats is None:  # torch.repeat_interleave(repeats)
        counts = backend.to_device(x.array, backend.CPU)
        if x.ndim != 1 or counts.dtype.kind not in "iu":
            raise RuntimeError("repeat_interleave: repeats must be a 1-D integer tensor")
        return Tensor._make(backend.to_device(np.repeat(np.arange(counts.shape[0]), counts), x.device))
    if dim is None:
        x, d = x.flatten(), 0
    else:
        d = _wrap_dim(dim, x.ndim)
    n = x.shape[d] if x.ndim else 1
    # the index is built on the host (CuPy's repeat takes no array of counts)
    counts = backend.to_device(repeats.array, backend.CPU) if isinstance(repeats, Tensor) \
        else np.asarray(repeats)
    if counts.dtype.kind not in "iu":
        raise TypeError(f"repeat_interleave: repeats must be integers, got {counts.dtype}")
    if counts.ndim > 1 or (counts.ndim == 1 and counts.shape[0] not in (1, n)):
        raise RuntimeError(f"repeat_interleave: repeats must have the same size as input along "
                           f"dim ({n}), or be a single value; got shape {tuple(counts.shape)}")
    if counts.size and int(counts.min()) < 0:
        raise RuntimeError("repeat_interleave: repeats can not be negative")
    index = np.repeat(np.arange(n), counts.reshape(-1) if counts.ndim else int(counts))
    if output_size is not None and index.shape[0] != output_size:
        raise RuntimeError(f"repeat_interleave: output_size {output_size} does not match the "
                           f"total of repeats ({index.shape[0]})")
    if x.ndim == 0:
        x = reshape(x, 1)
    return getitem(x, (slice(None),) * d + (Tensor._make(backend.to_device(index, x.device)),))
