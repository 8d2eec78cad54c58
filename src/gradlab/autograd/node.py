"""Graph nodes: what a recorded operation leaves behind for backpropagation.

Every operation that runs with recording on and has an input that requires
grad creates one :class:`Node`. The node keeps the input tensors (the edges
of the graph: gradients flow back to them) and whatever its backward rule
needs. After a backward pass without ``retain_graph`` the engine calls
:meth:`Node.release`, which drops both, so that the memory of activations is
returned even while the output tensor is still referenced; a second backward
through the node then raises, as in PyTorch.

Primitive operations subclass :class:`Op`: ``forward`` works on raw arrays,
``backward`` on Tensors. Because backward rules are written with Tensor
operations, running them with recording on (``create_graph=True``) records
the backward pass itself, which is how higher-order gradients come about.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from gradlab.autograd.grad_mode import _state
from gradlab.tensor import Tensor

_make = Tensor._make

_FREED = (
    "Trying to backward through the graph a second time (or directly access "
    "saved tensors after they have already been freed). Saved intermediate "
    "values of the graph are freed when you call .backward() or "
    "autograd.grad(). Specify retain_graph=True if you need to backward "
    "through the graph a second time or if you need to access saved tensors "
    "after calling backward."
)


def _modified(node: Node, array: Any, now: int, version: int, what: str = "saved by") -> RuntimeError:
    return RuntimeError(
        "one of the variables needed for gradient computation has been modified by an "
        f"inplace operation: [{array.dtype} {list(array.shape)}], {what} {node.name()}, is "
        f"at version {now}; expected version {version} instead. Hint: make the change "
        "out of place (x = x + y instead of x += y), or after backward"
    )


class Node:
    """A recorded operation with ``n_outputs`` outputs and some inputs.

    Subclasses implement ``run_backward(grads)``: given one gradient per
    output, return one gradient (or None) per input.
    """

    __slots__ = ("inputs", "_edges", "_hooks", "_retained", "__weakref__", "__dict__")
    n_outputs = 1

    # inputs: the input tensors, for backward rules that read them.
    # _edges: per input, where its gradient goes, fixed when the node is made:
    # (grad_fn, output_nr) of the input then (grad_fn None: a leaf), or None
    # when the input did not require grad. An in-place op later gives the
    # input tensor a new history; this node's gradient still goes to the old.
    inputs: tuple | None
    _edges: tuple | None

    def run_backward(self, grads: tuple) -> tuple:
        raise NotImplementedError

    def release(self) -> None:
        """Drop the inputs and saved values (after a non-retaining backward)."""
        self.inputs = None
        self._edges = None
        self.__dict__.clear()

    def name(self) -> str:
        return type(self).__name__ + "Backward"

    # ----------------------------------------------- hooks on the outputs
    def add_hook(self, output_nr: int, hook: Callable) -> Callable[[], None]:
        hooks = self._hook_list()
        entry = (output_nr, hook)
        hooks.append(entry)
        return lambda: hooks.remove(entry) if entry in hooks else None

    def retain(self, tensor: Any) -> None:
        if getattr(self, "_retained", None) is None:
            self._retained = []
        self._retained.append((tensor._nr, weakref.ref(tensor)))

    def _hook_list(self) -> list:
        if getattr(self, "_hooks", None) is None:
            self._hooks = []
        return self._hooks

    def __repr__(self) -> str:
        return f"<{self.name()}>"


class Op(Node):
    """A primitive operation: ``forward`` on arrays, ``backward`` on Tensors.

    Subclasses define::

        def forward(self, *arrays) -> array        # may store on self
        def backward(self, grad) -> Tensor | tuple # one entry per input

    and are called as ``MyOp.apply(*tensors, **params)``; ``params`` become
    attributes of the node before ``forward`` runs. ``self.inputs`` holds the
    input Tensors during backward, so a rule that needs an input uses it
    directly (and, with ``create_graph``, differentiates through it).

    An in-place change, between forward and backward, to a value the rule
    reads would make the gradient silently wrong; as in PyTorch it is
    detected with the tensors' version counters and raises instead. Ops
    whose backward does not read their inputs say so with
    ``reads_inputs = False``; an op that stores its output as ``self.out``
    has that output checked too.
    """

    __slots__ = ()
    reads_inputs = True

    @classmethod
    def apply(cls, *inputs: Any, **params: Any) -> Any:
        node = cls.__new__(cls)
        if params:
            node.__dict__.update(params)
        for t in inputs:
            view = t._view
            if view is not None and view[2] != t._vc[0]:
                _views.refresh(t)  # a view whose base was written to since
        out = node.forward(*[t.array for t in inputs])
        result = None
        if _state.enabled:
            for t in inputs:
                if t._rg:
                    node.inputs = inputs
                    node._edges = tuple([(u.grad_fn, u._nr) if u._rg else None for u in inputs])
                    node._hooks = None
                    node._retained = None
                    if cls.reads_inputs:
                        node._versions = tuple([u._vc[0] for u in inputs])
                    result = _make(out, node)
                    if "out" in node.__dict__:
                        # the counter, not the tensor: the output may be gone
                        # while its (modified) memory is still self.out
                        node._out_version = (result._vc, result._vc[0])
                    break
        if result is None:
            result = _make(out)
        if len(inputs) == 1 and (getattr(out, "base", None) is not None or out is inputs[0].array):
            _views.track(result, inputs[0], cls, params)
        return result

    def forward(self, *arrays: Any) -> Any:
        raise NotImplementedError

    def backward(self, grad: Any) -> Any:
        raise NotImplementedError

    def run_backward(self, grads: tuple) -> tuple:
        if self.reads_inputs:
            for t, version in zip(self.inputs, self._versions):
                if t._vc[0] != version:
                    raise _modified(self, t.array, t._vc[0], version)
        saved = self.__dict__.get("_out_version")
        if saved is not None and saved[0][0] != saved[1]:
            raise _modified(self, self.out, saved[0][0], saved[1], "which is output 0 of")
        result = self.backward(grads[0])
        return result if type(result) is tuple else (result,)

    def output(self) -> Any:
        """This node's output as a Tensor attached to the graph, rebuilt from
        the saved array (keeping the Tensor itself would make a reference
        cycle node -> output -> node and delay freeing activations)."""
        return _make(self.out, self if self.inputs is not None else None)

    def __repr__(self) -> str:
        return f"<{self.name()}>"


from gradlab.autograd import views as _views  # noqa: E402  (views imports Node)
