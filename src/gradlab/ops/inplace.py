"""The recorded side of in-place ops: each computes the new value of the
tensor written to, out of place and recorded, and hands it to
:func:`gradlab.autograd.views.commit`, which writes it into the tensor's
memory and rebases the tensor's history onto it (PyTorch's semantics; see
:mod:`gradlab.autograd.views`).

Two primitives cover the writes that are not arithmetic:

* ``Overwrite``: y = broadcast(src) (as ``x``'s dtype); the gradient goes to
  ``src`` only, the old value of ``x`` receives none (``copy_``, ``fill_``,
  ``zero_``, ``x[i] = v`` through a view);
* ``IndexPut``: y = x with y[index] = v for an advanced index; the gradient
  goes to ``x`` outside the written positions and to ``v`` at them.
"""

from __future__ import annotations

from typing import Any

from gradlab import backend
from gradlab.autograd import views
from gradlab.autograd.node import Op
from gradlab.ops._util import constant
from gradlab.ops.elementwise import add, clamp, clone, div, mul
from gradlab.ops.indexing import Getitem, IndexAdd, masked_fill
from gradlab.tensor import Tensor


class Overwrite(Op):
    reads_inputs = False

    def forward(self, x, src):
        xp = backend.array_module(x)
        return xp.broadcast_to(src, x.shape).astype(x.dtype)

    def backward(self, g):
        return None, g


class IndexPut(Op):
    reads_inputs = False

    def forward(self, x, v):
        out = x.copy()
        out[self.index] = v
        return out

    def backward(self, g):
        keep = backend.array_module(g.array).ones(g.shape, dtype=g.dtype)
        keep[self.index] = 0
        return g * Tensor._make(keep), Getitem.apply(g, index=self.index, basic=False)


def _tensor(value: Any, like: Tensor) -> Tensor:
    if isinstance(value, Tensor):
        if type(value.array) is not type(like.array):
            value = value.to(like.device)
        return value
    return constant(value, like, dtype=like.dtype)


def _record(t: Tensor, what: str, new_value: Any) -> Tensor:
    """Check that ``t`` may be written in grad mode, compute its new value
    (``new_value()``, recorded) and commit it."""
    views.check_writable(t, what)
    new = new_value()
    if new.dtype != t.dtype:
        if t.dtype.kind != "f" and new.dtype.kind == "f":
            raise RuntimeError(
                f"{what}: result type {new.dtype} can't be cast to the desired output "
                f"type {t.dtype}"
            )
        new = new.to(t.dtype)
    return views.commit(t, new, what)


def _overwrite(t: Tensor, src: Any, what: str) -> Tensor:
    src = _tensor(src, t)
    try:
        return Overwrite.apply(t, src)
    except ValueError as err:
        raise RuntimeError(
            f"{what}: the value of shape {list(src.shape)} can't be broadcast to the "
            f"written shape {list(t.shape)}"
        ) from err


# --------------------------------------------------------------- the ops
def add_(t: Tensor, other: Any, alpha: float, what: str) -> Tensor:
    return _record(t, what, lambda: add(t, other, alpha=alpha))


def sub_(t: Tensor, other: Any, alpha: float, what: str) -> Tensor:
    return _record(t, what, lambda: add(t, other, alpha=-alpha))


# The product and the quotient read their operands in backward; they get a
# copy of the old value, as PyTorch's mul_/div_ save ``original_self``.
def mul_(t: Tensor, other: Any, what: str) -> Tensor:
    return _record(t, what, lambda: mul(clone(t), other))


def div_(t: Tensor, other: Any, what: str) -> Tensor:
    return _record(t, what, lambda: div(clone(t), other))


def clamp_(t: Tensor, low: Any, high: Any) -> Tensor:
    return _record(t, "clamp_", lambda: clamp(t, low, high))


def copy_(t: Tensor, src: Any, what: str) -> Tensor:
    return _record(t, what, lambda: _overwrite(t, src, what))


def masked_fill_(t: Tensor, mask: Any, value: Any) -> Tensor:
    return _record(t, "masked_fill_", lambda: masked_fill(t, mask, value))


def setitem(t: Tensor, index: Any, value: Any, basic: bool) -> None:
    """``t[index] = value`` recorded: through a view of ``t`` for a basic
    index (PyTorch's CopySlices), as an ``IndexPut`` of all of ``t`` for an
    advanced one."""
    if basic:
        views.check_writable(t, "__setitem__")
        region = Getitem.apply(t, index=index, basic=True)
        copy_(region, value, "__setitem__")
        views.current(t)
    else:
        index = _as_index(index, t)
        index_put(t, index, value, False, "__setitem__")


def index_put(t: Tensor, index: Any, values: Any, accumulate: bool, what: str) -> Tensor:
    def new_value() -> Tensor:
        v = _tensor(values, t)
        if accumulate:
            return t + IndexAdd.apply(v.to(t.dtype), index=index, shape=t.shape, basic=False)
        try:
            return IndexPut.apply(t, v, index=index)
        except ValueError as err:
            raise RuntimeError(
                f"{what}: shape mismatch: values of shape {list(v.shape)} cannot be "
                f"broadcast to the indexed shape"
            ) from err

    return _record(t, what, new_value)


def _as_index(index: Any, t: Tensor) -> Any:
    from gradlab.ops.indexing import as_index

    return as_index(index, backend.array_module(t.array))


__all__ = ["add_", "clamp_", "copy_", "div_", "index_put", "masked_fill_", "mul_", "setitem",
           "sub_"]
