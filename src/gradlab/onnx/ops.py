"""Converters of the primitive Tensor operations (``gradlab.ops``) that a
custom ``forward`` uses between layers: arithmetic, matrix products,
reshapes, permutations, concatenation, basic indexing, reductions and
softmax.

Shapes that hold the batch size are written so that a dynamic batch stays
dynamic: a reshape target whose first entry equals the input's first size
gets ``0`` there (ONNX: "keep the input's size"), or ``-1`` when it merges
the leading dimensions; an expand keeps ``1`` where the size does not
change. Operations whose second operand is a data-dependent array, not a
Tensor (``where`` with a mask, masked products), cannot be traced and are
refused.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradlab.onnx.graph import Graph, UnsupportedOperatorError
from gradlab.onnx.registry import op_converter
from gradlab.tensor import Tensor

__all__: list[str] = []

_BIG = np.iinfo(np.int64).max  # an open slice end

_BINARY = {"Add": "Add", "Sub": "Sub", "Mul": "Mul", "Div": "Div", "Pow": "Pow", "Maximum": "Max",
           "Minimum": "Min", "MatMul": "MatMul"}
_UNARY = {"Neg": "Neg", "Exp": "Exp", "Log": "Log", "Sqrt": "Sqrt", "Abs": "Abs", "Sign": "Sign",
          "Sin": "Sin", "Cos": "Cos", "Tanh": "Tanh", "Sigmoid": "Sigmoid", "Relu": "Relu", "Erf": "Erf",
          "Clone": "Identity", "ToDevice": "Identity"}


def _binary(g: Graph, op: Any, inputs: list, tensors: tuple, out: Tensor) -> str:
    return g.node(_BINARY[type(op).__name__], inputs)


def _unary(g: Graph, op: Any, inputs: list, tensors: tuple, out: Tensor) -> str:
    return g.node(_UNARY[type(op).__name__], inputs)


op_converter(*_BINARY)(_binary)
op_converter(*_UNARY)(_unary)


def _scalar(g: Graph, value: float, like: Tensor) -> str:
    return g.constant(np.asarray(value, dtype=like.array.dtype), "c")


@op_converter("Log1p")
def _log1p(g: Graph, op: Any, inputs: list, tensors: tuple, out: Tensor) -> str:
    return g.node("Log", [g.node("Add", [inputs[0], _scalar(g, 1.0, tensors[0])])])


@op_converter("Expm1")
def _expm1(g: Graph, op: Any, inputs: list, tensors: tuple, out: Tensor) -> str:
    return g.node("Sub", [g.node("Exp", inputs), _scalar(g, 1.0, tensors[0])])


@op_converter("PowScalar")
def _pow_scalar(g: Graph, op: Any, inputs: list, tensors: tuple, out: Tensor) -> str:
    return g.node("Pow", [inputs[0], _scalar(g, op.p, tensors[0])])


@op_converter("RPowScalar")
def _rpow_scalar(g: Graph, op: Any, inputs: list, tensors: tuple, out: Tensor) -> str:
    return g.node("Pow", [_scalar(g, op.c, tensors[0]), inputs[0]])


@op_converter("Clamp")
def _clamp(g: Graph, op: Any, inputs: list, tensors: tuple, out: Tensor) -> str:
    bounds = [_scalar(g, v, tensors[0]) if v is not None else "" for v in (op.lo, op.hi)]
    return g.node("Clip", [inputs[0], *bounds])


@op_converter("LinearOp")
def _linear(g: Graph, op: Any, inputs: list, tensors: tuple, out: Tensor) -> str:
    y = g.node("MatMul", [inputs[0], g.node("Transpose", [inputs[1]], perm=[1, 0])])
    return g.node("Add", [y, inputs[2]]) if len(inputs) == 3 else y


@op_converter("Cast")
def _cast(g: Graph, op: Any, inputs: list, tensors: tuple, out: Tensor) -> str:
    return g.node("Cast", inputs, to=g.onnx.helper.np_dtype_to_tensor_dtype(np.dtype(out.array.dtype)))


# -------------------------------------------------------------- movement
@op_converter("Reshape")
def _reshape(g: Graph, op: Any, inputs: list, tensors: tuple, out: Tensor) -> str:
    source, target = tuple(tensors[0].shape), list(op.shape)
    if source and target and target[0] == source[0]:
        target[0] = 0  # the batch size, whatever it is
    elif source and target and -1 not in target and target[0] % source[0] == 0 and len(target) < len(source):
        target[0] = -1  # leading dimensions merged, the batch among them
    return g.node("Reshape", [inputs[0], g.ints(target)])


@op_converter("Permute")
def _permute(g: Graph, op: Any, inputs: list, tensors: tuple, out: Tensor) -> str:
    return g.node("Transpose", inputs, perm=[int(d) for d in op.order])


@op_converter("Expand")
def _expand(g: Graph, op: Any, inputs: list, tensors: tuple, out: Tensor) -> str:
    source = (1,) * (len(op.shape) - tensors[0].ndim) + tuple(tensors[0].shape)
    # ONNX's Expand broadcasts: 1 keeps the input's (possibly dynamic) size
    target = [1 if s == t else t for s, t in zip(source, op.shape)]
    return g.node("Expand", [inputs[0], g.ints(target)])


@op_converter("Cat")
def _cat(g: Graph, op: Any, inputs: list, tensors: tuple, out: Tensor) -> str:
    return g.node("Concat", inputs, axis=int(op.axis))


@op_converter("Getitem")
def _getitem(g: Graph, op: Any, inputs: list, tensors: tuple, out: Tensor) -> str:
    """Basic indexing: slices (any step), integers, None and Ellipsis."""
    index = op.index if isinstance(op.index, tuple) else (op.index,)
    if not op.basic or not all(
        isinstance(i, (int, np.integer, slice)) or i is None or i is Ellipsis for i in index
    ):
        raise UnsupportedOperatorError(
            f"ONNX export: indexing with {op.index!r} is not exportable (only ints, slices, None and ...)"
        )
    ndim = tensors[0].ndim
    if Ellipsis in index:
        at = index.index(Ellipsis)
        used = sum(1 for i in index if i is not None and i is not Ellipsis)
        index = index[:at] + (slice(None),) * (ndim - used) + index[at + 1:]
    starts, ends, axes, steps, squeeze, unsqueeze = [], [], [], [], [], []
    axis, position = 0, 0  # the input axis, and the axis in the result
    for item in index:
        if item is None:
            unsqueeze.append(position)
            position += 1
            continue
        if isinstance(item, slice):
            step = 1 if item.step is None else int(item.step)
            start = item.start if item.start is not None else (0 if step > 0 else -1)
            end = item.stop if item.stop is not None else (_BIG if step > 0 else -_BIG)
            if (start, end, step) != (0, _BIG, 1):
                starts.append(int(start)), ends.append(int(end)), axes.append(axis), steps.append(step)
            position += 1
        else:
            i = int(item)
            starts.append(i), ends.append(i + 1 if i != -1 else _BIG), axes.append(axis), steps.append(1)
            squeeze.append(axis)
        axis += 1
    x = inputs[0]
    if axes:
        x = g.node("Slice", [x, g.ints(starts), g.ints(ends), g.ints(axes), g.ints(steps)])
    if squeeze:
        x = g.node("Squeeze", [x, g.ints(squeeze)])
    if unsqueeze:
        x = g.node("Unsqueeze", [x, g.ints(unsqueeze)])
    return x if x != inputs[0] else g.node("Identity", [x])


# ------------------------------------------------------------- reductions
@op_converter("Sum")
def _sum(g: Graph, op: Any, inputs: list, tensors: tuple, out: Tensor) -> str:
    axes = [g.ints(list(op.axes))] if op.axes else []
    return g.node("ReduceSum", [inputs[0], *axes], keepdims=int(op.keepdim))


@op_converter("AMax")
def _amax(g: Graph, op: Any, inputs: list, tensors: tuple, out: Tensor) -> str:
    op_type = "ReduceMax" if op.largest else "ReduceMin"
    axes = list(op.axes) if op.axes else list(range(tensors[0].ndim))
    if g.opset_version >= 18:
        return g.node(op_type, [inputs[0], g.ints(axes)], keepdims=int(op.keepdim))
    return g.node(op_type, inputs[:1], axes=axes, keepdims=int(op.keepdim))


@op_converter("Softmax", "LogSoftmax")
def _softmax(g: Graph, op: Any, inputs: list, tensors: tuple, out: Tensor) -> str:
    axis = 0 if op.axis is None else int(op.axis)
    return g.node(type(op).__name__, inputs, axis=axis)


@op_converter("Pointwise")
def _pointwise(g: Graph, op: Any, inputs: list, tensors: tuple, out: Tensor) -> str:
    """The activations that run as one kernel node (nn.functional.activation)."""
    x = inputs[0]
    if op.kind == "leaky_relu":
        return g.node("LeakyRelu", [x], alpha=float(op.params["slope"]))
    half = _scalar(g, 0.5, tensors[0])
    one = _scalar(g, 1.0, tensors[0])
    if op.kind == "gelu":  # x Phi(x) = 0.5 x (1 + erf(x / sqrt 2))
        erf = g.node("Erf", [g.node("Mul", [x, _scalar(g, 1.0 / np.sqrt(2.0), tensors[0])])])
    elif op.kind == "gelu_tanh":  # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        cube = g.node("Mul", [g.node("Mul", [x, x]), x])
        inner = g.node("Add", [x, g.node("Mul", [cube, _scalar(g, 0.044715, tensors[0])])])
        erf = g.node("Tanh", [g.node("Mul", [inner, _scalar(g, np.sqrt(2.0 / np.pi), tensors[0])])])
    else:
        from gradlab.onnx.graph import UnsupportedOperatorError

        raise UnsupportedOperatorError(f"ONNX export: the activation kernel {op.kind!r} is not exportable")
    return g.node("Mul", [g.node("Mul", [x, half]), g.node("Add", [one, erf])])
