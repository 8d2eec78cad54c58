"""The recorded side of in-place ops: each computes the new value of the
tensor written to, out of place and recorded, and hands it to
:func:`gradlab.autograd.views.commit`, which writes it into the tensor's
memory and rebases the tensor's history onto it (PyTorch's semantics; see
:mod:`gradlab.autograd.views`).

``elementwise_`` is the generic in-place form of any out-of-place op whose
result has the tensor's shape (``sqrt_``, ``lerp_``, ``lt_``...), recorded or
not; ``reshape_`` the one of the view ops (``unsqueeze_``, ``t_``...), which
change the tensor's shape and keep its memory. ``check_cast`` is PyTorch's
rule for which result dtypes may be written into which tensors.

Three primitives cover the writes that are not arithmetic:

* ``Overwrite``: y = broadcast(src) (as ``x``'s dtype); the gradient goes to
  ``src`` only, the old value of ``x`` receives none (``copy_``, ``fill_``,
  ``zero_``, ``x[i] = v`` through a view);
* ``IndexPut``: y = x with y[index] = v for an advanced index; the gradient
  goes to ``x`` outside the written positions and to ``v`` at them;
* ``NoGradient``: a written value with no derivative (a comparison, a random
  fill): the old value and the arguments receive zeros.
"""

from __future__ import annotations

from typing import Any

from gradlab import backend
from gradlab.autograd import views
from gradlab.autograd.grad_mode import _state
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


class NoGradient(Op):
    """A value written in place that has no derivative (a comparison, a
    bitwise op): the inputs receive zeros, as PyTorch's ``LtBackward`` gives."""

    reads_inputs = False

    def forward(self, *inputs):
        return self.value

    def backward(self, g):
        xp = backend.array_module(g.array)
        zeros = tuple(Tensor._make(xp.zeros(u.shape, u.dtype)) for u in self.inputs)
        return zeros if len(zeros) > 1 else zeros[0]


# PyTorch's names of the dtypes, for its error message; the order of the kinds
# is the one of its casting rule (no float into an integer, no integer into bool)
_TORCH_NAMES = {"float16": "Half", "float32": "Float", "float64": "Double", "int8": "Char",
                "int16": "Short", "int32": "Int", "int64": "Long", "uint8": "Byte",
                "bool": "Bool"}
_KIND_RANK = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def check_cast(what: str, result: Any, out: Any) -> None:
    """Raise PyTorch's error when an in-place op's result dtype can't be
    written into the tensor's dtype (float into an integer, integer into bool)."""
    if _KIND_RANK[result.kind] > _KIND_RANK[out.kind]:
        raise RuntimeError(
            f"{what}: result type {_TORCH_NAMES.get(str(result), result)} can't be cast to "
            f"the desired output type {_TORCH_NAMES.get(str(out), out)}"
        )


def _record(t: Tensor, what: str, new_value: Any) -> Tensor:
    """Check that ``t`` may be written in grad mode, compute its new value
    (``new_value()``, recorded) and commit it."""
    views.check_writable(t, what)
    new = new_value()
    if new.dtype != t.dtype:
        check_cast(what, new.dtype, t.dtype)
        new = new.to(t.dtype)
    return views.commit(t, new, what)


record = _record  # for the op families outside this module (random fills)


def elementwise_(t: Tensor, fn: Any, what: str, args: tuple, kwargs: dict) -> Tensor:
    """``t = fn(t, *args, **kwargs)`` in place: the generic in-place form of
    an out-of-place op. Recorded, ``fn`` sees a copy of the old value (what
    PyTorch saves as ``original_self``), so that a backward rule reading its
    input does not read the overwritten memory; a result with no derivative
    gives the written tensor a zero gradient. Unrecorded, the result is only
    written (cast to ``t``'s dtype where PyTorch allows it)."""
    values = args + tuple(kwargs.values())
    if t._recorded(*values):
        def new_value() -> Tensor:
            new = fn(clone(t), *args, **kwargs)
            if new.dtype != t.dtype:
                check_cast(what, new.dtype, t.dtype)
                new = new.to(t.dtype)  # a bool result loses its (absent) history here
            if not new._rg:
                grads = [t] + [v for v in values if isinstance(v, Tensor) and v._rg]
                new = NoGradient.apply(*grads, value=new.array)
            return new
        return _record(t, what, new_value)
    new = fn(t, *args, **kwargs)
    check_cast(what, new.dtype, t.dtype)
    if new.shape != t.shape:
        raise RuntimeError(
            f"{what}: output with shape {list(t.shape)} doesn't match the broadcast shape "
            f"{list(new.shape)}"
        )
    views.write(t, new.array, what)
    return t


def reshape_(t: Tensor, fn: Any, what: str, *args: Any) -> Tensor:
    """Give ``t`` the shape of the view ``fn(t, *args)`` (``unsqueeze_``,
    ``t_``...): the memory stays, the metadata changes. Recorded (grad mode,
    ``t`` requires grad) ``t``'s history becomes the view op's; a leaf that
    requires grad is refused, as in PyTorch. The version goes up, as in
    PyTorch. Unlike PyTorch's saved variables, nodes recorded before hold
    ``t`` itself: one that needs ``t``'s old shape in backward raises there
    (its gradient no longer fits), it does not compute a wrong one."""
    recorded = _state.enabled and t._rg
    if recorded:
        views.check_writable(t, what)
    old = Tensor._make(t.array, t.grad_fn, t._nr)
    old._rg, old._vc, old._view = t._rg, t._vc, t._view
    new = fn(old, *args)
    if new.array.base is None and new.array is not t.array:  # not a view: keep the memory
        raise RuntimeError(f"{what}: the new shape is not a view of the tensor's memory")
    t.array = new.array
    t._vc[0] += 1  # as PyTorch: a node that saved t's value now refuses to use it
    if t._view is not None:
        t._view = new._view
    if recorded:
        t.grad_fn, t._nr, t._rg = new.grad_fn, new._nr, new._rg
    return t


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


__all__ = ["add_", "check_cast", "clamp_", "copy_", "div_", "elementwise_", "index_put",
           "masked_fill_", "mul_", "record", "reshape_", "setitem", "sub_"]
