"""The backward pass: reverse-mode differentiation over the recorded graph.

Given output tensors y_k and vectors v_k, the engine computes
sum_k v_k^T dy_k/dx for every tensor x the outputs depend on, by the chain
rule applied node by node in reverse topological order (Rumelhart, Hinton and
Williams 1986; Griewank and Walther, *Evaluating Derivatives*, ch. 3):

    grad(input) += node.backward(grad(output))

Three things happen here and nowhere else:

* the graph is ordered by an *iterative* depth-first search, so a chain of
  any length backpropagates without hitting Python's recursion limit;
* a gradient whose shape differs from its input's because the forward op
  broadcast is summed back to the input's shape (``sum_to``), so no op has to
  undo broadcasting itself;
* gradients reaching the same node or leaf from several paths are summed.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Sequence
from typing import Any

from gradlab.autograd.grad_mode import _state
from gradlab.autograd.node import _FREED
from gradlab.backend import array_module
from gradlab.tensor import Tensor


def backward(tensor: Tensor, gradient: Any = None, retain_graph: bool | None = None,
             create_graph: bool = False, inputs: Any = None) -> None:
    """``tensor.backward(...)``: accumulate into the leaves' ``.grad``."""
    grad = _root_gradient(tensor, gradient, 0)
    if retain_graph is None:
        retain_graph = create_graph
    if inputs is None:
        _run([(tensor, grad)], None, retain_graph, create_graph)
        return
    targets = _as_tensors(inputs, "inputs")
    if not targets:
        raise RuntimeError("'inputs' argument to backward() cannot be empty")
    found = _run([(tensor, grad)], targets, retain_graph, create_graph)
    for t, g in zip(targets, found):
        if g is not None:
            _accumulate(t, g, create_graph, set())


def grad(outputs: Any, inputs: Any, grad_outputs: Any = None,
         retain_graph: bool | None = None, create_graph: bool = False,
         allow_unused: bool | None = None, materialize_grads: bool = False,
         ) -> tuple[Tensor | None, ...]:
    """The gradients of ``outputs`` with respect to ``inputs``, returned
    rather than accumulated into ``.grad`` (``torch.autograd.grad``).

    Args:
        outputs: tensor or sequence of tensors to differentiate.
        inputs: tensor or sequence of tensors to differentiate with respect to.
        grad_outputs: the vectors v of the vector-Jacobian product, one per
            output; may be left out (or None) for single-element outputs.
        retain_graph: keep the graph for another backward (default:
            ``create_graph``).
        create_graph: record the backward pass, so that the result can be
            differentiated again (higher-order derivatives).
        allow_unused: return None for an input the outputs do not depend on,
            instead of raising.
        materialize_grads: return zeros instead of None for unused inputs.
    """
    outs = _as_tensors(outputs, "outputs")
    ins = _as_tensors(inputs, "inputs")
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs] * len(outs) if grad_outputs is None else [grad_outputs]
    grad_outputs = list(grad_outputs)
    if len(grad_outputs) != len(outs):
        raise RuntimeError(
            f"grad requires one grad_output per output: got {len(grad_outputs)} "
            f"grad_outputs for {len(outs)} outputs"
        )
    for i, t in enumerate(ins):
        if not t._rg:
            raise RuntimeError(
                f"one of the differentiated Tensors (inputs[{i}]) does not require grad"
            )
    if allow_unused is None:
        allow_unused = materialize_grads
    if retain_graph is None:
        retain_graph = create_graph
    roots = [(o, _root_gradient(o, g, i)) for i, (o, g) in enumerate(zip(outs, grad_outputs))]
    found = _run(roots, ins, retain_graph, create_graph)
    result = []
    for i, (t, g) in enumerate(zip(ins, found)):
        if g is None:
            if materialize_grads:
                g = Tensor._make(array_module(t.array).zeros_like(t.array))
            elif not allow_unused:
                raise RuntimeError(
                    f"one of the differentiated Tensors (inputs[{i}]) appears to "
                    "not have been used in the graph; set allow_unused=True if "
                    "this is the desired behavior"
                )
        result.append(g)
    return tuple(result)


# ---------------------------------------------------------------------------
def _run(roots: list, targets: list | None, retain_graph: bool,
         create_graph: bool) -> list:
    """Backpropagate from ``roots`` (pairs of tensor and gradient).

    Without ``targets`` every leaf that requires grad accumulates into its
    ``.grad``. With ``targets`` nothing is accumulated; the graph is pruned to
    the nodes that lead to a target, and the targets' gradients are returned
    in order (None where none arrived).
    """
    order = _topological_order([t.grad_fn for t, _ in roots if t.grad_fn is not None])

    target_nodes: dict = {}   # node -> list of (output_nr, position in targets)
    target_leaves: dict = {}  # leaf tensor -> positions in targets
    needed = None
    if targets is not None:
        for pos, t in enumerate(targets):
            if t.grad_fn is None:
                target_leaves.setdefault(t, []).append(pos)
            else:
                target_nodes.setdefault(t.grad_fn, []).append((t._nr, pos))
        needed = _prune(order, target_nodes, target_leaves)

    buffers: dict = {}
    leaf_grads: dict = {}
    for t, g in roots:
        if t.grad_fn is None:
            if targets is None or t in target_leaves:  # a leaf output that is no target gets nothing
                _add(leaf_grads, t, g)
        else:
            buf = buffers.setdefault(t.grad_fn, [None] * t.grad_fn.n_outputs)
            buf[t._nr] = g if buf[t._nr] is None else buf[t._nr] + g

    found: list = [None] * (len(targets) if targets is not None else 0)
    seen: set = {id(g.array) for _, g in roots}
    # Without targets, a leaf's gradient is delivered (hooks, then .grad) as
    # soon as the last node that can feed it has run, not after the whole
    # walk: DistributedDataParallel starts averaging a layer's gradients
    # while backward goes on through the layers below it.
    pending = _leaf_edges(order) if targets is None else None
    prev = _state.enabled
    _state.enabled = create_graph
    try:
        for node in reversed(order):
            grads = buffers.pop(node, None)
            if grads is None:
                if pending is not None:
                    _feed_done(node, pending, leaf_grads, create_graph, seen)
                continue
            if node._hooks:
                for nr, hook in node._hooks:
                    if grads[nr] is not None:
                        replaced = hook(grads[nr])
                        if replaced is not None:
                            grads[nr] = replaced
            if node._retained:
                for nr, ref in node._retained:
                    t = ref()
                    if t is not None and grads[nr] is not None:
                        _accumulate(t, grads[nr], create_graph, set())
            if node in target_nodes:
                for nr, pos in target_nodes[node]:
                    found[pos] = grads[nr]
            if needed is not None and node not in needed:
                continue
            inputs = node.inputs
            if inputs is None:
                raise RuntimeError(_FREED)
            in_grads = node.run_backward(tuple(grads))
            if len(in_grads) != len(inputs):
                raise RuntimeError(
                    f"function {node.name()} returned {len(in_grads)} gradients, "
                    f"expected {len(inputs)} (one per input)"
                )
            if not retain_graph:
                node.release()
            for t, g in zip(inputs, in_grads):
                if g is None or not t._rg:
                    continue
                if g.array.shape != t.array.shape or g.array.dtype != t.array.dtype:
                    g = _conform(g, t, node)
                child = t.grad_fn
                if child is None:
                    if needed is None or t in target_leaves:
                        _add(leaf_grads, t, g)
                elif needed is None or child in needed or child in target_nodes:
                    buf = buffers.get(child)
                    if buf is None:
                        buf = buffers[child] = [None] * child.n_outputs
                    nr = t._nr
                    buf[nr] = g if buf[nr] is None else buf[nr] + g
            if pending is not None:
                _feed_done(node, pending, leaf_grads, create_graph, seen)

        for t, g in list(leaf_grads.items()):  # leaves fed by no node (roots), or left over
            if targets is None:
                _deliver(t, leaf_grads.pop(t), create_graph, seen)
            else:
                for pos in target_leaves[t]:
                    found[pos] = _run_leaf_hooks(t, g)
    finally:
        _state.enabled = prev
    return found


def _leaf_edges(order: list) -> dict:
    """For each leaf that requires grad, how many node inputs in ``order``
    it is (the contributions it waits for)."""
    pending: dict = {}
    for node in order:
        for t in node.inputs or ():
            if t.grad_fn is None and t._rg:
                pending[t] = pending.get(t, 0) + 1
    return pending


def _feed_done(node: Any, pending: dict, leaf_grads: dict, create_graph: bool, seen: set) -> None:
    """``node`` has run (or had nothing to pass on): deliver every leaf
    input of it that now waits for no other node."""
    for t in node.inputs or ():
        count = pending.get(t)
        if count is None:
            continue
        if count > 1:
            pending[t] = count - 1
            continue
        del pending[t]
        g = leaf_grads.pop(t, None)
        if g is not None:
            _deliver(t, g, create_graph, seen)


def _run_leaf_hooks(t: Tensor, g: Tensor) -> Tensor:
    if t._hooks:
        for hook in list(t._hooks):
            replaced = hook(g)
            if replaced is not None:
                g = replaced
    return g


def _deliver(t: Tensor, g: Tensor, create_graph: bool, seen: set) -> None:
    """A leaf's finished gradient: its hooks, ``.grad``, then the hooks
    that wait for the accumulated ``.grad``."""
    _accumulate(t, _run_leaf_hooks(t, g), create_graph, seen)
    hooks = _post_accumulate_hooks.get(id(t)) if _post_accumulate_hooks else None
    if hooks:
        for hook in list(hooks):
            hook(t)


# id(leaf) -> hooks called with the leaf after its .grad was accumulated
# (Tensor.register_post_accumulate_grad_hook). Keyed by id, not by the
# tensor (whose == is elementwise); an entry goes when its tensor does.
_post_accumulate_hooks: dict[int, list] = {}


def register_post_accumulate_grad_hook(t: Tensor, hook: Any) -> Any:
    """Call ``hook(t)`` after each backward has accumulated into ``t.grad``
    (a leaf); returns a handle whose ``remove()`` takes the hook away."""
    if t.grad_fn is not None:
        raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
    if not t._rg:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    hooks = _post_accumulate_hooks.get(id(t))
    if hooks is None:
        hooks = _post_accumulate_hooks[id(t)] = []
        weakref.finalize(t, _post_accumulate_hooks.pop, id(t), None)
    hooks.append(hook)
    return _HookHandle(hooks, hook)


class _HookHandle:
    def __init__(self, hooks: list, hook: Any) -> None:
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


def _topological_order(starts: list) -> list:
    """Nodes reachable from ``starts``, each after every node it feeds
    (depth-first post-order, iterative: no recursion limit)."""
    order: list = []
    visited: set = set()
    stack = [(n, False) for n in starts]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if node in visited:
            continue
        visited.add(node)
        stack.append((node, True))
        inputs = node.inputs
        if inputs is not None:
            for t in inputs:
                child = t.grad_fn
                if child is not None and child not in visited:
                    stack.append((child, False))
    return order


def _prune(order: list, target_nodes: dict, target_leaves: dict) -> set:
    """The nodes whose backward must run to reach a target: those with an
    input that is a target leaf or a node on a path to a target."""
    leads: set = set()  # nodes that are targets or lead to one
    needed: set = set()
    for node in order:  # inputs before the nodes they feed
        inputs = node.inputs or ()
        for t in inputs:
            child = t.grad_fn
            if (child is None and t in target_leaves) or (child is not None and child in leads):
                needed.add(node)
                break
        if node in needed or node in target_nodes:
            leads.add(node)
    return needed


def _add(table: dict, key: Any, g: Tensor) -> None:
    prev = table.get(key)
    table[key] = g if prev is None else prev + g


def _accumulate(t: Tensor, g: Tensor, create_graph: bool, seen: set) -> None:
    """``t.grad += g``, giving each leaf a gradient array of its own, in C
    order: code that hands a ``.grad`` to compiled loops (the optimizers)
    may rely on that layout.

    Without ``create_graph`` the first gradient is stored as is when the
    array is fresh, and copied when it is a view or already handed to another
    leaf (``a + b`` gives both the same gradient), so that an in-place change
    to one ``.grad`` (clipping, say) never shows in another.
    """
    if create_graph:
        t.grad = g if t.grad is None else t.grad + g
        return
    if t.grad is None:
        data = g.array
        flags = data.flags
        # CuPy's flags have no ``writeable``: its arrays always are
        if id(data) in seen or not flags.owndata or not flags.c_contiguous \
                or not getattr(flags, "writeable", True):
            data = data.copy()  # C order, the layout every .grad has
        seen.add(id(data))
        t.grad = Tensor._make(data)
    else:
        total = t.grad.array + g.array
        if not total.flags.c_contiguous:
            total = total.copy()
        t.grad = Tensor._make(total)


def _conform(g: Tensor, t: Tensor, node: Any) -> Tensor:
    """Bring a gradient to its input's shape (undo broadcasting) and dtype."""
    if g.array.shape != t.array.shape:
        g = sum_to(g, t.array.shape)
        if g.array.shape != t.array.shape:
            raise RuntimeError(
                f"function {node.name()} returned a gradient of shape "
                f"{tuple(g.shape)} for an input of shape {tuple(t.shape)}"
            )
    if g.array.dtype != t.array.dtype:
        g = g.to(t.array.dtype)
    return g


def sum_to(g: Tensor, shape: tuple[int, ...]) -> Tensor:
    """Sum ``g`` over the dimensions that broadcasting expanded to reach
    ``g.shape`` from ``shape`` (the backward of broadcasting)."""
    if g.array.shape == shape:
        return g
    lead = g.array.ndim - len(shape)
    if lead < 0:
        return g  # not a broadcast of `shape`: the caller reports it
    axes = tuple(range(lead)) + tuple(
        lead + i for i, s in enumerate(shape) if s == 1 and g.array.shape[lead + i] != 1
    )
    if axes:
        g = g.sum(dim=axes, keepdim=True)
    if lead and g.array.size == math.prod(shape):
        g = g.reshape(shape)
    return g


def _root_gradient(t: Any, gradient: Any, index: int) -> Tensor:
    if not isinstance(t, Tensor):
        raise TypeError(f"outputs[{index}] must be a Tensor, got {type(t).__name__}")
    if not t._rg:
        raise RuntimeError(
            f"element {index} of tensors does not require grad and does not have a grad_fn"
        )
    if gradient is None:
        if t.array.size != 1:
            raise RuntimeError(
                "grad can be implicitly created only for scalar outputs; pass "
                f"gradient= for an output of shape {tuple(t.shape)}"
            )
        return Tensor._make(array_module(t.array).ones_like(t.array))
    if not isinstance(gradient, Tensor):
        gradient = Tensor(gradient)
    if gradient.shape != t.shape:
        raise RuntimeError(
            f"Mismatch in shape: grad_output[{index}] has a shape of "
            f"{tuple(gradient.shape)} and output[{index}] has a shape of {tuple(t.shape)}"
        )
    if gradient.dtype != t.dtype:
        gradient = gradient.to(t.dtype)
    return gradient


def _as_tensors(value: Any, what: str) -> list[Tensor]:
    items = [value] if isinstance(value, Tensor) else value
    if not isinstance(items, Sequence) and not hasattr(items, "__iter__"):
        raise TypeError(f"{what} must be a Tensor or a sequence of Tensors, got "
                        f"{type(value).__name__}")
    items = list(items)
    for i, t in enumerate(items):
        if not isinstance(t, Tensor):
            raise TypeError(f"{what}[{i}] must be a Tensor, got {type(t).__name__}")
    return items
