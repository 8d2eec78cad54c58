"""Derivatives of whole functions: vjp, jvp, jacobian, hessian, hvp, vhp,
with the signatures and return conventions of ``torch.autograd.functional``.

For f: R^n -> R^m with Jacobian J (m x n):

* ``vjp(f, x, v)`` = v^T J, one reverse pass;
* ``jvp(f, x, v)`` = J v, by the double-vjp trick: u -> J^T u is linear in
  u, so J v = d/du <J^T u, v>, one more reverse pass through the first;
* ``jacobian`` builds J row by row (one reverse pass per output element);
* ``hessian`` is the Jacobian of the gradient; ``hvp``/``vhp`` give H v and
  v^T H without forming H (Pearlmutter 1994).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gradlab.autograd.engine import grad
from gradlab.autograd.grad_mode import enable_grad
from gradlab.backend import array_module
from gradlab.tensor import Tensor

__all__ = ["hessian", "hvp", "jacobian", "jvp", "vhp", "vjp"]


def _as_tuple(value: Any, what: str, fn: str) -> tuple[bool, tuple]:
    is_tuple = isinstance(value, (tuple, list))
    items = tuple(value) if is_tuple else (value,)
    for i, t in enumerate(items):
        if not isinstance(t, Tensor):
            raise TypeError(
                f"{fn}: the {what} must be a Tensor or a tuple of Tensors, but "
                f"element {i} is {type(t).__name__}"
            )
    return is_tuple, items


def _prepare(inputs: tuple, create_graph: bool) -> tuple:
    """Inputs to differentiate with respect to: still attached to the
    caller's graph when ``create_graph`` (so the result can be differentiated
    again), fresh leaves otherwise."""
    return tuple(
        x if (create_graph and x.requires_grad) else x.detach().requires_grad_(True)
        for x in inputs
    )


def _finish(values: tuple, create_graph: bool) -> tuple:
    return tuple(v if create_graph or v is None else v.detach() for v in values)


def _grads(outputs: tuple, inputs: tuple, grad_outputs: Any, create_graph: bool,
           strict: bool, fn: str) -> tuple:
    live = [(o, g) for o, g in zip(outputs, grad_outputs) if o.requires_grad]
    if not live:
        found = (None,) * len(inputs)
    else:
        found = grad([o for o, _ in live], inputs, [g for _, g in live], retain_graph=True,
                     create_graph=create_graph, allow_unused=True)
    result = []
    for i, (x, g) in enumerate(zip(inputs, found)):
        if g is None:
            if strict:
                raise RuntimeError(
                    f"{fn}: the output of the function is independent of input {i}, "
                    "which is not allowed in strict mode"
                )
            g = Tensor._make(array_module(x.array).zeros_like(x.array))
        result.append(g)
    return tuple(result)


def _check_v(v: tuple, like: tuple, fn: str, what: str) -> None:
    if len(v) != len(like):
        raise RuntimeError(f"{fn}: v has {len(v)} tensors but the {what} has {len(like)}")
    for i, (a, b) in enumerate(zip(v, like)):
        if a.shape != b.shape:
            raise RuntimeError(
                f"{fn}: v[{i}] has shape {tuple(a.shape)} but the {what}[{i}] has "
                f"shape {tuple(b.shape)}"
            )


def vjp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple:
    """(func(inputs), v^T J)."""
    in_tuple, ins = _as_tuple(inputs, "inputs", "vjp")
    with enable_grad():
        ins = _prepare(ins, create_graph)
        out_tuple, outs = _as_tuple(func(*ins), "outputs of the function", "vjp")
        if v is None:
            if len(outs) != 1 or outs[0].numel() != 1:
                raise RuntimeError("vjp: v can only be omitted for a function with one "
                                   "single-element output")
            vs = (Tensor._make(array_module(outs[0].array).ones_like(outs[0].array)),)
        else:
            vs = _as_tuple(v, "v", "vjp")[1]
            _check_v(vs, outs, "vjp", "output")
        result = _grads(outs, ins, vs, create_graph, strict, "vjp")
    outs = _finish(outs, create_graph)
    result = _finish(result, create_graph)
    return (outs if out_tuple else outs[0]), (result if in_tuple else result[0])


def jvp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple:
    """(func(inputs), J v), by differentiating the vjp with respect to its
    (dummy) cotangent."""
    in_tuple, ins = _as_tuple(inputs, "inputs", "jvp")
    if v is None:
        if len(ins) != 1 or ins[0].numel() != 1:
            raise RuntimeError("jvp: v can only be omitted for one single-element input")
        vs = (Tensor._make(array_module(ins[0].array).ones_like(ins[0].array)),)
    else:
        vs = _as_tuple(v, "v", "jvp")[1]
        _check_v(vs, ins, "jvp", "input")
    with enable_grad():
        ins = _prepare(ins, create_graph)
        out_tuple, outs = _as_tuple(func(*ins), "outputs of the function", "jvp")
        dummies = tuple(
            Tensor._make(array_module(o.array).zeros_like(o.array)).requires_grad_(o.is_floating_point())
            for o in outs
        )
        vjps = _grads(outs, ins, dummies, True, strict, "jvp")
        live = [(g, vi) for g, vi in zip(vjps, vs) if g.requires_grad]
        if live:
            result = grad([g for g, _ in live], dummies, [vi for _, vi in live],
                          create_graph=create_graph, allow_unused=True, retain_graph=True)
        else:
            result = (None,) * len(outs)
        result = tuple(r if r is not None else Tensor._make(array_module(o.array).zeros_like(o.array))
                       for r, o in zip(result, outs))
    outs = _finish(outs, create_graph)
    result = _finish(result, create_graph)
    return (outs if out_tuple else outs[0]), (result if out_tuple else result[0])


def jacobian(func: Callable, inputs: Any, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode") -> Any:
    """The Jacobian of ``func`` at ``inputs``: for one input and one output, a
    tensor of shape ``output.shape + input.shape``; for tuples, a tuple over
    outputs of tuples over inputs (as PyTorch)."""
    if strategy != "reverse-mode":
        raise ValueError(f"jacobian: only strategy='reverse-mode' is supported, got {strategy!r}")
    in_tuple, ins = _as_tuple(inputs, "inputs", "jacobian")
    with enable_grad():
        ins = _prepare(ins, create_graph)
        out_tuple, outs = _as_tuple(func(*ins), "outputs of the function", "jacobian")
        table = []
        for o in outs:
            rows: list[list] = [[] for _ in ins]
            flat = o.reshape(-1)
            for k in range(flat.numel()):
                row = _grads((flat[k],), ins, (None,), create_graph, strict, "jacobian")
                for i, g in enumerate(row):
                    rows[i].append(g)
            blocks = []
            for i, x in enumerate(ins):
                if rows[i]:
                    block = _stack(rows[i]).reshape(tuple(o.shape) + tuple(x.shape))
                else:  # an empty output has an empty Jacobian
                    xp = array_module(x.array)
                    block = Tensor._make(xp.zeros(tuple(o.shape) + tuple(x.shape), x.dtype))
                blocks.append(block if create_graph else block.detach())
            table.append(tuple(blocks))
    if out_tuple:
        return tuple(row if in_tuple else row[0] for row in table)
    return table[0] if in_tuple else table[0][0]


def _stack(tensors: list) -> Tensor:
    from gradlab.ops.movement import stack

    return stack(tensors)


def hessian(func: Callable, inputs: Any, create_graph: bool = False, strict: bool = False,
            vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode") -> Any:
    """The Hessian of a scalar function: shape ``input.shape + input.shape``
    for one input, a tuple of tuples for several."""
    in_tuple, ins = _as_tuple(inputs, "inputs", "hessian")

    def gradient(*xs: Tensor) -> tuple:
        out = func(*xs)
        if not isinstance(out, Tensor) or out.numel() != 1:
            raise RuntimeError("hessian: the function must return a single-element Tensor, "
                               f"got {getattr(out, 'shape', type(out).__name__)}")
        return _grads((out.reshape(()),), xs, (None,), True, strict, "hessian")

    result = jacobian(gradient, ins, create_graph=create_graph, strict=strict)
    return result if in_tuple else result[0][0]


def vhp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple:
    """(func(inputs), v^T H) for a scalar function."""
    return _hessian_product(func, inputs, v, create_graph, strict, "vhp")


def hvp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple:
    """(func(inputs), H v) for a scalar function; H is symmetric (for twice
    continuously differentiable functions), so this equals v^T H."""
    return _hessian_product(func, inputs, v, create_graph, strict, "hvp")


def _hessian_product(func: Callable, inputs: Any, v: Any, create_graph: bool, strict: bool,
                     fn: str) -> tuple:
    in_tuple, ins = _as_tuple(inputs, "inputs", fn)
    if v is None:
        if len(ins) != 1 or ins[0].numel() != 1:
            raise RuntimeError(f"{fn}: v can only be omitted for one single-element input")
        vs = (Tensor._make(array_module(ins[0].array).ones_like(ins[0].array)),)
    else:
        vs = _as_tuple(v, "v", fn)[1]
        _check_v(vs, ins, fn, "input")
    with enable_grad():
        ins = _prepare(ins, create_graph)
        out = func(*ins)
        if not isinstance(out, Tensor) or out.numel() != 1:
            raise RuntimeError(f"{fn}: the function must return a single-element Tensor")
        first = _grads((out,), ins, (None,), True, strict, fn)
        dot = None
        for g, vi in zip(first, vs):
            if g.requires_grad:
                term = (g * vi).sum()
                dot = term if dot is None else dot + term
        if dot is None:
            result = tuple(Tensor._make(array_module(x.array).zeros_like(x.array)) for x in ins)
        else:
            result = _grads((dot,), ins, (None,), create_graph, strict, fn)
    out = out if create_graph else out.detach()
    result = _finish(result, create_graph)
    return out, (result if in_tuple else result[0])
