"""Ordering and counting: ``sort``, ``argsort``, ``topk``, ``unique``,
``histc``, ``histogram``.

The indices come from NumPy (a stable sort); the values are gathered from
the input with them, so their gradient flows back to the positions they came
from (``gather``'s rule). ``unique`` and the histograms count, and are not
differentiable.
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np

from gradlab import backend
from gradlab.tensor import Tensor, _wrap_dim

sort_result = namedtuple("sort", ["values", "indices"])
topk_result = namedtuple("topk", ["values", "indices"])
histogram_result = namedtuple("histogram", ["hist", "bin_edges"])


def _order(x: Tensor, dim: int, descending: bool) -> Any:
    """Indices that sort ``x`` along ``dim``, ties in their original order."""
    xp = backend.array_module(x.array)
    key = x.array
    if descending:
        key = -(key.astype(np.int64) if key.dtype.kind in "bu" else key)
    return xp.argsort(key, axis=dim, kind="stable")


def sort(x: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Any:
    """Values along ``dim`` in order, and the index of each in ``x``, as a
    named tuple (values, indices). gradlab's sort is always stable."""
    if x.ndim == 0:
        _wrap_dim(dim, 0)
        return sort_result(x.clone(), Tensor._make(backend.array_module(x.array).zeros((), np.int64)))
    d = _wrap_dim(dim, x.ndim)
    index = Tensor._make(_order(x, d, descending).astype(np.int64, copy=False))
    return sort_result(x.gather(d, index), index)


def argsort(x: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    """The indices that sort ``x`` along ``dim``."""
    return sort(x, dim, descending, stable).indices


def topk(x: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> Any:  # noqa: A002
    """The ``k`` largest (or smallest) elements along ``dim`` and their
    indices, as a named tuple (values, indices), largest first."""
    d = _wrap_dim(dim, x.ndim)
    n = x.shape[d] if x.ndim else 1
    if not isinstance(k, (int, np.integer)) or not 0 <= k <= n:
        raise RuntimeError(f"topk: k ({k}) must be an int in [0, {n}] (the size of dimension {d})")
    values, indices = sort(x, d, descending=largest)
    if x.ndim == 0:
        return topk_result(values, indices)
    keep = (slice(None),) * d + (slice(0, int(k)),)
    return topk_result(values[keep], indices[keep])


def unique(x: Tensor, sorted: bool = True, return_inverse: bool = False,  # noqa: A002
           return_counts: bool = False, dim: int | None = None) -> Any:
    """The distinct elements (or slices along ``dim``) in ascending order;
    with ``return_inverse`` also the index of each input element in them,
    with ``return_counts`` how often each occurs. gradlab always sorts
    (PyTorch may too when ``sorted=False``)."""
    xp = backend.array_module(x.array)
    axis = None if dim is None else _wrap_dim(dim, x.ndim)
    values, inverse, counts = xp.unique(x.array, return_inverse=True, return_counts=True, axis=axis)
    inverse = inverse.reshape(x.shape if axis is None else (x.shape[axis],))
    out = [Tensor._make(values)]
    if return_inverse:
        out.append(Tensor._make(inverse.astype(np.int64, copy=False)))
    if return_counts:
        out.append(Tensor._make(counts.astype(np.int64, copy=False)))
    return out[0] if len(out) == 1 else tuple(out)


def histc(x: Tensor, bins: int = 100, min: float = 0, max: float = 0) -> Tensor:  # noqa: A002
    """Counts of the elements in ``bins`` equal-width bins over [min, max]
    (the data's range when both are 0); elements outside are ignored. The
    result has ``x``'s floating dtype."""
    if x.array.dtype.kind != "f":
        raise RuntimeError(f"histc: input must be a floating point tensor, got {x.dtype}")
    if bins <= 0:
        raise RuntimeError(f"histc: bins must be > 0, got {bins}")
    if min > max:
        raise RuntimeError(f"histc: max ({max}) must be larger than or equal to min ({min})")
    data = backend.to_device(x.array, backend.CPU).reshape(-1)
    lo, hi = float(min), float(max)
    if lo == hi and data.size:
        lo, hi = float(data.min()), float(data.max())
    if lo == hi:  # one value everywhere: PyTorch widens the range by 1 each side
        lo, hi = lo - 1, hi + 1
    counts, _ = np.histogram(data, bins=bins, range=(lo, hi))
    return Tensor._make(backend.to_device(counts.astype(x.dtype), x.device))


def histogram(x: Tensor, bins: Any = 100, *, range: tuple | None = None,  # noqa: A002
              weight: Tensor | None = None, density: bool = False) -> Any:
    """Counts (or weights, or a density) of ``x`` in ``bins`` (a count of
    equal-width bins over ``range`` or the data's range, or a 1-D tensor of
    increasing bin edges), as a named tuple (hist, bin_edges), as NumPy's
    ``histogram``."""
    if x.array.dtype.kind != "f":
        raise RuntimeError(f"histogram: input must be a floating point tensor, got {x.dtype}")
    data = backend.to_device(x.array, backend.CPU).reshape(-1)
    edges = backend.to_device(bins.array, backend.CPU) if isinstance(bins, Tensor) else int(bins)
    w = None if weight is None else backend.to_device(weight.array, backend.CPU).reshape(-1)
    if isinstance(edges, int) and range is None and data.size:
        range = (float(data.min()), float(data.max()))  # noqa: A001
    hist, bin_edges = np.histogram(data, bins=edges, range=range, weights=w, density=density)
    return histogram_result(Tensor._make(backend.to_device(hist.astype(x.dtype), x.device)),
                            Tensor._make(backend.to_device(bin_edges.astype(x.dtype), x.device)))

