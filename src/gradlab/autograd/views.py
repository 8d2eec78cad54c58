"""Views, version counters and in-place writes into the graph, as PyTorch
has them (``torch/csrc/autograd/variable.cpp``, "Note [View + Inplace
update]").

Three ideas:

* **Version counter.** Every write into a tensor's memory adds one to its
  version; a tensor and every view of it (an op result that shares its
  memory: basic indexing, reshape, permute, expand, ``detach()``) share one
  counter. A node that needs a tensor's value in backward remembers the
  version it saw, and backward raises if it changed.
* **Rebase.** An in-place op on a tensor in the graph computes the new value
  out of place (a recorded op, ``new``), writes it into the tensor's memory
  and makes the tensor's history ``new``'s: ``x.add_(b)`` leaves ``x`` with
  the ``grad_fn`` of ``x_old + b``. Nodes recorded before keep the edge to
  the old history (see ``Node._edges``), so they are not affected.
* **Writes through views (CopySlices).** Writing ``new`` into a view ``v`` of
  ``base`` changes ``base`` as well: its history becomes
  ``base_new = CopySlices(base_old, new)``, whose backward sends the gradient
  outside the view's region to ``base_old`` and the region itself, cut out by
  replaying the view ops on the gradient, to ``new``. A view's own history is
  rebuilt from its base (by the same replay) when the shared version shows
  that the base changed since.
"""

from __future__ import annotations

from typing import Any

from gradlab.autograd.grad_mode import _state
from gradlab.autograd.node import Node
from gradlab.backend import array_module
from gradlab.tensor import Tensor


class Replay:
    """``view = replay(base)``: the view ops from a base to one of its views,
    applied again to a new tensor (the base's new history, or a gradient)."""

    __slots__ = ("cls", "params", "parent")

    def __init__(self, cls: Any, params: dict, parent: Replay | None) -> None:
        self.cls = cls
        self.params = params
        self.parent = parent

    def __call__(self, base: Tensor) -> Tensor:
        x = base if self.parent is None else self.parent(base)
        return self.cls.apply(x, **self.params)


def track(result: Tensor, x: Tensor, cls: Any, params: dict) -> None:
    """Mark ``result`` (made by the single-input op ``cls`` from ``x``) as a
    view of ``x``'s base when it shares ``x``'s memory."""
    out, array = result.array, x.array
    owner = out.base
    if out is not array and (owner is None or (owner is not array and owner is not array.base)):
        return
    result._vc = x._vc
    parent = x._view
    if parent is None:
        base, replay = x, None
    else:
        base, replay = parent[0], parent[1]
        if replay is None:  # a view of a view made without grad
            result._view = [base, None, x._vc[0]]
            return
    recorded = _state.enabled
    result._view = [base, Replay(cls, params, replay) if recorded else None, x._vc[0]]


def refresh(t: Tensor) -> None:
    """Rebuild the history of the view ``t`` from its base, whose memory (and
    so ``t``'s values) changed since ``t``'s history was made."""
    view = t._view
    base, replay = view[0], view[1]
    view[2] = t._vc[0]
    if replay is None:
        return
    prev = _state.enabled
    _state.enabled = True
    try:
        fresh = replay(base)
    finally:
        _state.enabled = prev
    t.grad_fn, t._nr, t._rg = fresh.grad_fn, fresh._nr, fresh._rg


def current(t: Tensor) -> Tensor:
    """``t`` with an up-to-date history (views of a changed base rebuilt)."""
    view = t._view
    if view is not None and view[2] != t._vc[0]:
        refresh(t)
    return t


def check_writable(t: Tensor, what: str) -> None:
    """The errors PyTorch raises before an in-place op that would be
    recorded: a leaf that requires grad (or a view of one), and a view made
    without grad of a tensor that needs it."""
    current(t)
    view = t._view
    base = t if view is None else view[0]
    if base.grad_fn is None and base._rg:
        kind = "a leaf Variable" if view is None else "a view of a leaf Variable"
        raise RuntimeError(
            f"{what}: {kind} that requires grad is being used in an in-place operation; "
            "wrap it in `with gradlab.no_grad():` or use out-of-place ops"
        )
    if view is not None and view[1] is None:
        raise RuntimeError(
            f"{what}: a view was created in no_grad mode and is being modified inplace "
            "with grad mode enabled; this is not allowed, as autograd cannot track the "
            "change. Clone the view, or make it with grad mode enabled"
        )


def commit(t: Tensor, new: Tensor, what: str) -> Tensor:
    """Write the recorded value ``new`` into ``t`` and rebase the history of
    ``t`` (and of its base, when ``t`` is a view) onto it."""
    if new.shape != t.shape:
        raise RuntimeError(
            f"{what}: output with shape {list(t.shape)} doesn't match the broadcast shape "
            f"{list(new.shape)}"
        )
    write(t, new.array, what)
    view = t._view
    if view is None:
        _rebase(t, new.grad_fn, new._nr)
        return t
    base, replay = view[0], view[1]
    node = CopySlices.__new__(CopySlices)
    node.inputs = (base, new)
    node._edges = (_edge(base), _edge(new))
    node._hooks = None
    node._retained = None
    node.replay = replay
    node.layout = base.array  # the base's layout now, should its shape change in place later
    _rebase(base, node, 0)
    refresh(t)
    return t


def _rebase(t: Tensor, node: Node, nr: int) -> None:
    """Give ``t`` the history ``(node, nr)``. As in PyTorch, hooks already
    registered stay with the old history (they see the gradient of the old
    value) and ``retain_grad`` moves to the new one (``.grad`` is the
    gradient of the latest value)."""
    old = t.grad_fn
    t.grad_fn, t._nr, t._rg = node, nr, True
    if t._retains_grad and old is not None and old._retained:
        old._retained = [(n, ref) for n, ref in old._retained if ref() is not t]
        node.retain(t)


def write(t: Tensor, value: Any, what: str) -> None:
    """``t[...] = value`` in memory, one more version."""
    try:
        array_module(t.array).copyto(t.array, value, casting="unsafe")
    except ValueError as err:
        raise write_error(t, value, what) from err
    t._vc[0] += 1


def write_error(t: Tensor, value: Any, what: str) -> RuntimeError:
    """The error for a failed write of ``value`` into ``t``: a read-only
    (expanded) tensor, or a value that does not broadcast to its shape."""
    if not getattr(t.array.flags, "writeable", True):  # CuPy's arrays always are
        return RuntimeError(
            f"{what}: unsupported operation: more than one element of the written-to "
            "tensor refers to a single memory location (an expanded or read-only tensor); "
            "clone it before writing"
        )
    return RuntimeError(
        f"{what}: output with shape {list(t.shape)} doesn't match the broadcast shape "
        f"of the value, of shape {list(getattr(value, 'shape', ()))}"
    )


def _edge(t: Tensor) -> tuple | None:
    return (t.grad_fn, t._nr) if t._rg else None


class CopySlices(Node):
    """``base_new``: ``base_old`` with the region of a view replaced by
    ``new`` (PyTorch's ``CopySlices``). Backward: the gradient outside the
    region goes to ``base_old``, the region's to ``new``."""

    __slots__ = ()

    def run_backward(self, grads: tuple) -> tuple:
        (g,) = grads
        # a mask of base's layout, so that the replayed view ops give views
        keep = array_module(g.array).ones_like(self.layout)
        region = self.replay(Tensor._make(keep)).array
        if region is not keep and region.base is not keep:
            raise RuntimeError(
                "CopySlicesBackward: the view written into could not be replayed on the "
                "gradient; clone the tensor before writing into its view"
            )
        region[...] = 0
        g_base = g * Tensor._make(keep) if self._edges[0] is not None else None
        return g_base, self.replay(g)
