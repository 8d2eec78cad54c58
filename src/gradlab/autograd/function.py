"""Custom differentiable operations, as ``torch.autograd.Function``.

Example:
    >>> import gradlab
    >>> class Cube(gradlab.autograd.Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return x ** 3
    ...     @staticmethod
    ...     def backward(ctx, grad):
    ...         (x,) = ctx.saved_tensors
    ...         return grad * 3 * x ** 2
    >>> x = gradlab.tensor(2.0, requires_grad=True)
    >>> Cube.apply(x).backward()
    >>> x.grad
    tensor(12.)

``forward`` receives Tensors (and any other arguments) and runs with
recording off; ``backward`` receives one gradient per output and returns one
per forward argument (None for non-tensors or where no gradient is needed).
If ``backward`` is written with Tensor operations it can itself be
differentiated (``create_graph=True``), which gives higher-order gradients.
"""

from __future__ import annotations

from typing import Any

from gradlab.autograd.grad_mode import _state, no_grad
from gradlab.autograd.node import _FREED, Node
from gradlab.autograd.views import current
from gradlab.tensor import Tensor


class FunctionCtx(Node):
    """The ``ctx`` passed to a custom Function's forward and backward; it is
    also the graph node of the call."""

    def save_for_backward(self, *tensors: Tensor | None) -> None:
        """Keep tensors for backward; an in-place change to one of them
        before backward is detected and reported."""
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(
                    f"save_for_backward can only save Tensors (or None), got {type(t).__name__}"
                )
        self._saved = tuple((t, t._version if t is not None else 0) for t in tensors)

    @property
    def saved_tensors(self) -> tuple[Tensor | None, ...]:
        if "_fn" not in self.__dict__ and self.inputs is None:
            raise RuntimeError(_FREED)
        out = []
        outputs = self.__dict__.get("_outputs", {})
        for t, version in self.__dict__.get("_saved", ()):
            if t is None:
                out.append(None)
                continue
            if t._version != version:
                raise RuntimeError(
                    "one of the variables needed for gradient computation has "
                    f"been modified by an inplace operation: a tensor of shape "
                    f"{tuple(t.shape)} is at version {t._version}; expected "
                    f"version {version} instead"
                )
            nr = outputs.get(id(t))
            if nr is not None and self.inputs is not None:
                # an output: give it back attached to this node, so that a
                # backward using it can be differentiated through it
                t = Tensor._make(t.array, self)
                t._nr = nr
            out.append(t)
        return tuple(out)

    def mark_non_differentiable(self, *tensors: Tensor) -> None:
        self._non_diff = {id(t) for t in tensors}

    def set_materialize_grads(self, value: bool) -> None:
        self._materialize = bool(value)

    def mark_dirty(self, *tensors: Tensor) -> None:
        raise NotImplementedError(
            "in-place custom Functions (mark_dirty) are not supported; return a new tensor"
        )

    def release(self) -> None:
        n_outputs = self.n_outputs  # the engine still sizes buffers with it
        super().release()
        self.n_outputs = n_outputs

    def name(self) -> str:
        fn = self.__dict__.get("_fn")
        return (fn.__name__ if fn else "Function") + "Backward"

    def run_backward(self, grads: tuple) -> tuple:
        if self.__dict__.get("_materialize", True):
            grads = tuple(
                g if g is not None else Tensor._make(
                    _zeros(self._meta[i]))
                for i, g in enumerate(grads)
            )
        result = self._fn.backward(self, *grads)
        if not isinstance(result, tuple):
            result = (result,)
        if len(result) != self._n_args:
            raise RuntimeError(
                f"function {self.name()} returned an incorrect number of gradients "
                f"(expected {self._n_args}, got {len(result)})"
            )
        picked = tuple(result[i] for i in self._tensor_positions)
        for g in picked:
            if g is not None and not isinstance(g, Tensor):
                raise TypeError(f"{self.name()} must return Tensors or None, got {type(g).__name__}")
        return picked


def _zeros(meta: tuple) -> Any:
    shape, dtype, xp = meta
    return xp.zeros(shape, dtype=dtype)


class Function:
    """Base class for custom operations; see the module docstring."""

    @staticmethod
    def forward(ctx: FunctionCtx, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("a custom Function must define forward(ctx, ...)")

    @staticmethod
    def backward(ctx: FunctionCtx, *grads: Tensor) -> Any:
        raise NotImplementedError("a custom Function must define backward(ctx, ...) "
                                  "to be differentiated")

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        from gradlab.backend import array_module

        ctx = FunctionCtx.__new__(FunctionCtx)
        ctx.inputs = None
        ctx._edges = None
        ctx._hooks = None
        ctx._retained = None
        ctx._fn = cls
        for a in args:
            if isinstance(a, Tensor):
                current(a)  # a view whose base was written to since
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a._rg for a in args)
        with no_grad():
            result = cls.forward(ctx, *args, **kwargs)
        is_tuple = isinstance(result, tuple)
        outputs = result if is_tuple else (result,)
        record = _state.enabled and any(ctx.needs_input_grad)
        non_diff = ctx.__dict__.get("_non_diff", set())
        wrapped, ids, meta = [], {}, []
        for nr, o in enumerate(outputs):
            if not isinstance(o, Tensor):
                wrapped.append(o)
                meta.append(None)
                continue
            meta.append((o.shape, o.dtype, array_module(o.array)))
            if record and id(o) not in non_diff and o.array.dtype.kind == "f":
                ids[id(o)] = nr
                w = Tensor._make(o.array, ctx)
                w._nr = nr
            else:
                w = Tensor._make(o.array)
            w._vc = o._vc  # a write into the result must show in a saved `o`
            wrapped.append(w)
        if record:
            positions = tuple(i for i, a in enumerate(args) if isinstance(a, Tensor))
            ctx.inputs = tuple(args[i] for i in positions)
            ctx._edges = tuple((t.grad_fn, t._nr) if t._rg else None for t in ctx.inputs)
            ctx._tensor_positions = positions
            ctx._n_args = len(args)
            ctx._outputs = ids
            ctx._meta = meta
            ctx.n_outputs = len(outputs)
        return tuple(wrapped) if is_tuple else wrapped[0]


def once_differentiable(backward: Any) -> Any:
    """Mark a backward as not differentiable again (accepted for PyTorch
    compatibility: its result is simply not recorded)."""
    import functools

    @functools.wraps(backward)
    def wrapper(ctx: Any, *grads: Any) -> Any:
        with no_grad():
            return backward(ctx, *grads)

    return wrapper
