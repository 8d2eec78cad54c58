"""Writing into positions given by an index: ``scatter`` (of a tensor or a
value, optionally reducing), ``index_add``.

``Scatter`` is a primitive: out = x, then out[index[i][j][k]][j][k] =
src[i][j][k] (for dim 0). Its gradient is the incoming gradient with the
overwritten positions zeroed for ``x``, and the incoming gradient gathered
at the written positions for ``src``. Where ``index`` repeats a position,
which value lands there is unspecified, as in PyTorch. ``index_add`` is
``x`` plus the indexing primitive ``IndexAdd``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradlab import backend
from gradlab.autograd.node import Op
from gradlab.ops._util import constant
from gradlab.ops.elementwise import MulConst
from gradlab.ops.indexing import Getitem, IndexAdd, _along, scatter_add
from gradlab.tensor import Tensor, _wrap_dim


class Scatter(Op):
    reads_inputs = False

    def forward(self, x, src):
        out = x.copy()
        out[self.index] = src
        written = backend.array_module(x).zeros(x.shape, dtype=bool)
        written[self.index] = True
        self.kept = ~written
        return out

    def backward(self, g):
        x, src = self.inputs
        gx = MulConst.apply(g, c=self.kept) if x._rg else None
        gsrc = Getitem.apply(g, index=self.index, basic=False) if src._rg else None
        return gx, gsrc


def _source(src: Tensor, index: Tensor, what: str) -> Tensor:
    """``src`` cut to ``index``'s shape (PyTorch reads only that corner)."""
    if src.shape == index.shape:
        return src
    if src.ndim != index.ndim or any(s < n for s, n in zip(src.shape, index.shape)):
        raise RuntimeError(f"{what}: src {tuple(src.shape)} must be at least as large as index "
                           f"{tuple(index.shape)} in every dimension")
    return src[tuple(slice(0, n) for n in index.shape)]


def scatter(x: Tensor, dim: int, index: Tensor, src: Any = None, *, value: Any = None,
            reduce: str | None = None) -> Tensor:
    """A copy of ``x`` with ``src[i][j][k]`` written at
    ``[index[i][j][k]][j][k]`` (for dim 0; likewise for the others). ``src``
    may be a tensor or a number (also given as ``value``). With ``reduce``
    "add" or "multiply" the written values are combined with ``x``'s
    instead (PyTorch's deprecated form, not differentiable for "multiply")."""
    if src is None:
        src = value
    if src is None:
        raise TypeError("scatter() needs src (a tensor) or value (a number)")
    idx = _along(index, dim, "scatter", x)
    if reduce is not None:
        return _scatter_reduce(x, dim, index, src, idx, reduce)
    if not isinstance(src, Tensor):
        src = constant(src, x, dtype=x.dtype).expand(index.shape)
    src = _source(src, index, "scatter")
    if src.dtype != x.dtype:
        raise RuntimeError(f"scatter(): expected src ({src.dtype}) and self ({x.dtype}) to have "
                           "the same dtype")
    return Scatter.apply(x, src, index=idx)


def _scatter_reduce(x: Tensor, dim: int, index: Tensor, src: Any, idx: tuple, reduce: str) -> Tensor:
    if reduce not in ("add", "multiply"):
        raise RuntimeError(f"scatter(): reduce must be 'add' or 'multiply', got {reduce!r}")
    if not isinstance(src, Tensor):
        src = constant(src, x, dtype=x.dtype).expand(index.shape)
    if reduce == "add":
        return scatter_add(x, dim, index, src)
    out = x.array.copy()
    values = _source(src, index, "scatter").array.astype(x.dtype, copy=False)
    backend.array_module(out).multiply.at(out, idx, values)
    return Tensor._make(out)


def index_add(x: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha: float = 1) -> Tensor:
    """A copy of ``x`` with ``alpha * source[..., i, ...]`` added at
    ``x[..., index[i], ...]`` along ``dim``; repeated indices accumulate."""
    if not isinstance(index, Tensor) or index.array.dtype.kind not in "iu" or index.ndim > 1:
        raise TypeError(f"index_add: index must be a 1-D integer Tensor, got "
                        f"{getattr(index, 'dtype', type(index).__name__)}")
    d = _wrap_dim(dim, x.ndim)
    idx = index.array.reshape(-1)
    n = x.shape[d] if x.ndim else 1
    expected = tuple(x.shape[:d]) + (idx.shape[0],) + tuple(x.shape[d + 1:])
    if tuple(source.shape) != expected[:x.ndim] and not (x.ndim == 0 and source.numel() == idx.shape[0]):
        raise RuntimeError(f"index_add: source of shape {tuple(source.shape)} must have shape "
                           f"{expected} (x's shape with dimension {d} of index's length)")
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= n):
        bad = int(idx.min()) if int(idx.min()) < 0 else int(idx.max())
        raise IndexError(f"index_add: index {bad} is out of bounds for dimension {d} with size {n}")
    if x.ndim == 0:
        return x + (source.sum() * alpha).to(x.dtype)
    xp = backend.array_module(x.array)
    position = (slice(None),) * d + (xp.asarray(idx, dtype=np.int64),)
    if alpha != 1:
        source = source * alpha
    return x + IndexAdd.apply(source.to(x.dtype), index=position, shape=x.shape, basic=False)



# ------------------------------------------- in-place writes by index
# Tensor methods, written as ``t[index] = values`` so that the recorded path
# (gradient to the values at the written positions, to t elsewhere) is
# __setitem__'s.
def _index_along(t: Tensor, dim: int, index: Any, what: str) -> tuple:
    """The advanced index selecting the positions ``index`` along ``dim``."""
    if not isinstance(index, Tensor) or index.array.dtype != np.int64 or index.ndim > 1:
        raise IndexError(f"{what}: index must be a 0-d or 1-d int64 tensor, got "
                           f"{getattr(index, 'dtype', type(index).__name__)} of "
                           f"{getattr(index, 'ndim', '?')} dims")
    d = _wrap_dim(dim, t.ndim)
    return (slice(None),) * d + (index.reshape(-1),)


def index_fill_(t: Tensor, dim: int, index: Tensor, value: Any) -> Tensor:
    """t[..., index, ...] = value along ``dim`` (``value`` a number or a 0-d tensor)."""
    if isinstance(value, Tensor) and value.ndim != 0:
        raise RuntimeError(f"index_fill_ only supports a 0-dimensional value tensor, but got "
                           f"a value with {value.ndim} dimension(s)")
    t[_index_along(t, dim, index, "index_fill_")] = value
    return t


def index_copy_(t: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """t[..., index[i], ...] = source[..., i, ...] along ``dim``."""
    where = _index_along(t, dim, index, "index_copy_")
    expected = list(t.shape)
    if t.ndim:
        expected[len(where) - 1] = index.numel()
    if list(source.shape) != expected:
        raise IndexError(f"index_copy_: source of shape {list(source.shape)} doesn't match "
                           f"the indexed shape {expected}")
    t[where] = source
    return t


def fill_diagonal_(t: Tensor, fill_value: Any, wrap: bool = False) -> Tensor:
    """Write ``fill_value`` on the main diagonal (t[i, i, ...]); for a tall
    matrix with ``wrap`` the diagonal starts again after every N + 1 rows."""
    if t.ndim < 2:
        raise RuntimeError(f"fill_diagonal_: dimensions must larger than 1, got {t.ndim}")
    if t.ndim > 2 and len(set(t.shape)) != 1:
        raise RuntimeError(f"fill_diagonal_: all dimensions of input must be of equal length, "
                           f"got shape {list(t.shape)}")
    mask = np.zeros(t.shape, dtype=bool)
    np.fill_diagonal(mask, True, wrap=wrap)
    return t.masked_fill_(Tensor._make(backend.to_device(mask, t.device)), fill_value)


def masked_scatter_(t: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """Write the elements of ``source``, in order, at the positions where the
    boolean ``mask`` (broadcast to t's shape) holds."""
    if not isinstance(mask, Tensor) or mask.array.dtype.kind != "b":
        raise RuntimeError(f"masked_scatter_ only supports boolean masks, but got mask with "
                           f"dtype {getattr(mask, 'dtype', type(mask).__name__)}")
    m = backend.to_device(mask.array, backend.CPU)
    try:
        m = np.broadcast_to(m, t.shape)
    except ValueError:
        raise RuntimeError(f"masked_scatter_: mask of shape {list(mask.shape)} can't be "
                           f"broadcast to the tensor's shape {list(t.shape)}") from None
    where = tuple(Tensor._make(backend.to_device(i, t.device)) for i in np.nonzero(m))
    count = len(where[0]) if where else int(m.item())
    if source.numel() < count:
        raise RuntimeError(f"masked_scatter_: expected source to have at least {count} "
                           f"elements, got {source.numel()}")
    if t.ndim == 0:
        if count:
            t.copy_(source.reshape(-1)[0])
        return t
    t[where] = source.reshape(-1)[:count]
    return t
