"""``gradlab.onnx.export``: write a model as ONNX by tracing one forward pass.

The model runs once on ``example_input``, in ``eval()`` mode and without
gradients (PyTorch's exporter does the same). Two kinds of events are
recorded:

- a call of a module whose type has a converter (Linear, Conv2d, LSTM, ...,
  see :mod:`gradlab.onnx.modules`) becomes that module's ONNX nodes, seen
  through forward hooks; the operations inside it are not recorded;
- any other primitive operation on a traced Tensor (the arithmetic, reshapes
  and indexing of a custom ``forward``) becomes its ONNX node, seen through
  ``Op.apply`` (see :mod:`gradlab.onnx.ops`).

A Tensor that no traced operation produced (a parameter used directly, a
constant made in ``forward``) is written as an initializer. Anything else
raises :class:`UnsupportedOperatorError` naming the operation and the module
it ran in.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from gradlab import backend, nn
from gradlab.autograd import no_grad
from gradlab.autograd.function import Function
from gradlab.autograd.node import Op
from gradlab.onnx import modules as _modules  # noqa: F401 - registers the module converters
from gradlab.onnx import ops as _ops  # noqa: F401 - registers the op converters
from gradlab.onnx.graph import Graph, UnsupportedOperatorError
from gradlab.onnx.registry import MODULES, NAMED_MODULES, OPS, converter_for
from gradlab.tensor import Tensor

__all__ = ["export"]


def _flatten(value: Any) -> list[Any]:
    if isinstance(value, (tuple, list)):
        return [leaf for item in value for leaf in _flatten(item)]
    return [value]


class _Tracer:
    """Maps traced Tensors to ONNX value names while the model runs."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.names: dict[int, str] = {}
        self._alive: list[Tensor] = []  # keeps traced Tensors alive, so that their ids stay unique
        self.depth = 0  # > 0 inside a module that has a converter
        self.module_stack: list[str] = []  # the module names, for error messages
        self._pending: list[tuple[list[str | None], nn.Module, dict[str, Any]]] = []

    def bind(self, tensor: Tensor, name: str) -> None:
        self.names[id(tensor)] = name
        self._alive.append(tensor)

    def is_traced(self, value: Any) -> bool:
        return isinstance(value, Tensor) and id(value) in self.names

    def name_of(self, tensor: Tensor) -> str:
        """The name of a traced Tensor, or a new initializer for a constant one."""
        if id(tensor) not in self.names:
            array = np.asarray(backend.to_device(tensor.array, backend.CPU))
            self.bind(tensor, self.graph.constant(array, "weight"))
        return self.names[id(tensor)]

    def where(self) -> str:
        return f" (in module {self.module_stack[-1]!r})" if self.module_stack else ""

    # ------------------------------------------------------------- modules
    def enter(self, module: nn.Module, args: tuple) -> None:
        if self.depth == 0:
            inputs = [self.name_of(a) if isinstance(a, Tensor) else None for a in _flatten(args)]
            self._pending.append((inputs, module, {}))
        self.depth += 1

    def leave(self, module: nn.Module, args: tuple, output: Any) -> None:
        self.depth -= 1
        if self.depth:
            return
        inputs, _, kwargs = self._pending.pop()
        self.graph.call_kwargs = kwargs
        names = converter_for(module)(self.graph, module, inputs, args, output)
        for tensor, name in zip(_flatten(output), _flatten(names)):
            if isinstance(tensor, Tensor) and name is not None:
                self.bind(tensor, name)

    # ----------------------------------------------------------------- ops
    def record(self, op: Any, inputs: tuple, output: Any) -> None:
        if self.depth or not any(self.is_traced(t) for t in inputs):
            return  # inside a converted module, or a constant computation
        name = type(op).__name__
        convert = OPS.get(name)
        if convert is None:
            raise UnsupportedOperatorError(
                f"ONNX export: the operation {name!r}{self.where()} is not exportable; supported "
                f"operations: {', '.join(sorted(OPS))}; and the modules "
                f"{', '.join(sorted({c.__name__ for c in MODULES} | set(NAMED_MODULES)))}"
            )
        input_names = [self.name_of(t) for t in inputs]
        self.bind(output, convert(self.graph, op, input_names, inputs, output))


def _pop(stack: list[str]) -> Any:
    def hook(module: nn.Module, args: Any, output: Any) -> None:  # returns None: keeps the output
        stack.pop()

    return hook


@contextlib.contextmanager
def _tracing(model: nn.Module, tracer: _Tracer) -> Iterator[None]:
    """Hooks on the converted modules, and ``Op.apply`` / ``Function.apply``
    wrapped to record the operations, for the duration of the block."""
    handles = []
    wrapped: list[nn.Module] = []
    names = {id(m): n for n, m in model.named_modules()}
    for module in model.modules():
        label = names.get(id(module)) or type(module).__name__
        if converter_for(module) is not None:
            handles.append(module.register_forward_pre_hook(lambda m, a: tracer.enter(m, a)))
            handles.append(module.register_forward_hook(lambda m, a, o: tracer.leave(m, a, o)))
            # forward hooks do not see keyword arguments (attention masks, output_size): the
            # converter gets them from an instance-level forward, removed below
            module.__dict__["forward"] = _keywords_seen(module, tracer)
            wrapped.append(module)
        else:  # only to name the module in error messages
            handles.append(module.register_forward_pre_hook(
                lambda m, a, _label=label: tracer.module_stack.append(_label)))
            handles.append(module.register_forward_hook(_pop(tracer.module_stack)))
    op_apply = Op.__dict__["apply"].__func__
    function_apply = Function.__dict__["apply"].__func__

    def traced_op(cls: type, *inputs: Any, **params: Any) -> Any:
        output = op_apply(cls, *inputs, **params)
        node = cls.__new__(cls)
        node.__dict__.update(params)
        tracer.record(node, inputs, output)
        return output

    def traced_function(cls: type, *args: Any, **kwargs: Any) -> Any:
        if tracer.depth == 0 and any(tracer.is_traced(a) for a in args):
            raise UnsupportedOperatorError(
                f"ONNX export: the custom autograd.Function {cls.__name__!r}{tracer.where()} "
                "is not exportable"
            )
        return function_apply(cls, *args, **kwargs)

    Op.apply = classmethod(traced_op)
    Function.apply = classmethod(traced_function)
    try:
        yield
    finally:
        Op.apply = classmethod(op_apply)
        Function.apply = classmethod(function_apply)
        for handle in handles:
            handle.remove()
        for module in wrapped:
            module.__dict__.pop("forward", None)


def _keywords_seen(module: nn.Module, tracer: _Tracer) -> Any:
    forward = type(module).forward.__get__(module)

    def seen(*args: Any, **kwargs: Any) -> Any:
        if tracer._pending and tracer._pending[-1][1] is module and tracer.depth == 1:
            tracer._pending[-1][2].update(kwargs)
        return forward(*args, **kwargs)

    return seen


def _value_info(onnx: Any, name: str, tensor: Tensor, dynamic: dict[int, str]) -> Any:
    shape = [dynamic.get(axis, size) for axis, size in enumerate(tensor.shape)]
    elem = onnx.helper.np_dtype_to_tensor_dtype(np.dtype(tensor.array.dtype))
    return onnx.helper.make_tensor_value_info(name, elem, shape)


def _axes(spec: Any, name: str, ndim: int) -> dict[int, str]:
    """PyTorch's dynamic_axes entry: a list of axes or a dict axis -> label."""
    if isinstance(spec, dict):
        axes = {int(a): str(label) for a, label in spec.items()}
    elif isinstance(spec, (list, tuple)):
        axes = {int(a): f"{name}_dynamic_axes_{i + 1}" for i, a in enumerate(spec)}
    else:
        raise TypeError(f"dynamic_axes[{name!r}] must be a list of axes or a dict axis -> name, got {spec!r}")
    for axis in axes:
        if not 0 <= axis < ndim:
            raise ValueError(f"dynamic_axes[{name!r}] names axis {axis}, but {name!r} has {ndim} dimensions")
    return axes


def _default_names(kind: str, n: int) -> list[str]:
    return [kind] if n == 1 else [f"{kind}_{i}" for i in range(n)]


def export(
    model: nn.Module,
    example_input: Tensor | Sequence[Tensor],
    path: str | Path,
    input_names: Sequence[str] | None = None,
    output_names: Sequence[str] | None = None,
    dynamic_axes: dict[str, Any] | None = None,
    opset_version: int = 17,
) -> Any:
    """Write ``model`` to the ONNX file ``path`` (``torch.onnx.export``'s
    arguments and meaning).

    Args:
        model: the network; it is traced in ``eval()`` mode (its mode is
            restored afterwards), so dropout is the identity and batch norm
            uses its running statistics.
        example_input: a Tensor, or a tuple of Tensors for a model with
            several inputs; fixes every shape not named in ``dynamic_axes``.
        path: the .onnx file to write.
        input_names, output_names: the graph's value names (default
            ``input``/``output``, or ``input_0``, ``input_1``, ...).
        dynamic_axes: for an input or output name, the axes whose size may
            change (``{"input": {0: "batch"}, "output": {0: "batch"}}``).
        opset_version: the ONNX opset (>= 14).

    Returns:
        the ``onnx.ModelProto`` that was written (checked with
        ``onnx.checker``).

    Raises:
        UnsupportedOperatorError: an operation without an ONNX converter,
            naming it and the module it ran in.

    Example:
        >>> gradlab.onnx.export(model, gradlab.randn(1, 1, 8, 8), "model.onnx",
        ...                     dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a gradlab.nn.Module, got {type(model).__name__}")
    inputs = [example_input] if isinstance(example_input, Tensor) else list(example_input)
    if not inputs or not all(isinstance(x, Tensor) for x in inputs):
        raise TypeError("example_input must be a Tensor or a sequence of Tensors")
    if isinstance(opset_version, bool) or not isinstance(opset_version, int) or opset_version < 14:
        raise ValueError(f"opset_version must be an integer >= 14, got {opset_version!r}")
    graph = Graph(opset_version)
    onnx = graph.onnx
    tracer = _Tracer(graph)
    in_names = list(input_names or _default_names("input", len(inputs)))
    if len(in_names) != len(inputs):
        raise ValueError(f"input_names has {len(in_names)} names for {len(inputs)} inputs")
    traced_inputs = []
    for x, name in zip(inputs, in_names):
        x = x.detach()  # a fresh Tensor object per input: its id names it
        tracer.bind(x, name)
        traced_inputs.append(x)
    was_training = model.training
    model.eval()
    try:
        with no_grad(), _tracing(model, tracer):
            output = model(*traced_inputs)
    finally:
        model.train(was_training)
    outputs = [t for t in _flatten(output) if isinstance(t, Tensor)]
    out_names = list(output_names or _default_names("output", len(outputs)))
    if len(out_names) != len(outputs):
        raise ValueError(f"output_names has {len(out_names)} names for {len(outputs)} outputs")
    for tensor, name in zip(outputs, out_names):
        if not tracer.is_traced(tensor):
            raise UnsupportedOperatorError(
                f"ONNX export: output {name!r} does not depend on the inputs through traced operations"
            )
        graph.nodes.append(onnx.helper.make_node("Identity", [tracer.names[id(tensor)]], [name]))
    dynamic_axes = dynamic_axes or {}
    known = {n: t for n, t in zip(in_names + out_names, traced_inputs + outputs)}
    for name in dynamic_axes:
        if name not in known:
            raise ValueError(
                f"dynamic_axes names {name!r}, which is neither an input nor an output: {list(known)}"
            )
    axes = {n: _axes(dynamic_axes[n], n, known[n].ndim) if n in dynamic_axes else {} for n in known}
    proto = onnx.helper.make_model(
        onnx.helper.make_graph(
            graph.nodes,
            type(model).__name__,
            [_value_info(onnx, n, t, axes[n]) for n, t in zip(in_names, traced_inputs)],
            [_value_info(onnx, n, t, axes[n]) for n, t in zip(out_names, outputs)],
            graph.initializers,
        ),
        opset_imports=[onnx.helper.make_opsetid("", opset_version)],
        producer_name="gradlab",
    )
    proto.ir_version = min(proto.ir_version, 9)  # readable by onnxruntime releases of the last two years
    onnx.checker.check_model(proto)
    onnx.save(proto, str(path))
    return proto
