"""Converters of the layers to ONNX nodes (eval-mode semantics: dropout is
the identity, batch norm uses its running statistics).

Each follows PyTorch's exporter (``torch/onnx/symbolic_opset*.py``): Linear
is ``Gemm`` (``MatMul`` + ``Add`` beyond 2-D inputs), convolutions and
pooling map attribute for attribute, GELU, SiLU and Softplus are composed
from elementwise nodes.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gradlab import backend, nn
from gradlab.onnx.graph import Graph, UnsupportedOperatorError
from gradlab.onnx.registry import module_converter, named_module_converter
from gradlab.tensor import Tensor

__all__: list[str] = []


def host(t: Tensor) -> np.ndarray:
    """A parameter or buffer as a NumPy array."""
    return np.asarray(backend.to_device(t.array, backend.CPU))


def _tuple(value: Any, n: int) -> list[int]:
    return list(value) if isinstance(value, (tuple, list)) else [int(value)] * n


def _scalar(g: Graph, value: float, like: Tensor, hint: str = "c") -> str:
    return g.constant(np.asarray(value, dtype=like.array.dtype), hint)


def _unsupported(module: nn.Module, why: str) -> UnsupportedOperatorError:
    return UnsupportedOperatorError(f"ONNX export: {type(module).__name__} {why}")


# ---------------------------------------------------------------- linear
@module_converter(nn.Linear)
def _linear(g: Graph, m: nn.Linear, inputs: list, args: tuple, out: Tensor) -> str:
    (x,) = inputs[:1]
    weight = g.constant(host(m.weight), "weight")
    bias = [g.constant(host(m.bias), "bias")] if m.bias is not None else []
    if args[0].ndim == 2:
        return g.node("Gemm", [x, weight, *bias], transB=1)
    y = g.node("MatMul", [x, g.constant(host(m.weight).T, "weight_t")])
    return g.node("Add", [y, bias[0]]) if bias else y


@module_converter(nn.Identity)
def _identity(g: Graph, m: nn.Module, inputs: list, args: tuple, out: Tensor) -> str:
    return g.node("Identity", [inputs[0]])


@module_converter(nn.Flatten)
def _flatten(g: Graph, m: nn.Flatten, inputs: list, args: tuple, out: Tensor) -> str:
    shape = args[0].shape
    start, end = m.start_dim % len(shape), m.end_dim % len(shape)
    if start == 1 and end == len(shape) - 1:
        return g.node("Flatten", [inputs[0]], axis=1)
    # 0 keeps the input's size at that index (a dynamic batch stays dynamic)
    target = [0] * start + [-1] + list(shape[end + 1:])
    return g.node("Reshape", [inputs[0], g.ints(target)])


@module_converter(nn.Unflatten)
def _unflatten(g: Graph, m: nn.Unflatten, inputs: list, args: tuple, out: Tensor) -> str:
    shape = args[0].shape
    dim = m.dim % len(shape)
    target = [0] * dim + list(m.unflattened_size) + list(shape[dim + 1:])
    return g.node("Reshape", [inputs[0], g.ints(target)])


# ----------------------------------------------------------- convolutions
def _conv_pads(m: Any, nd: int) -> list[int]:
    if m.padding == "valid":
        return [0] * (2 * nd)
    if m.padding == "same":  # PyTorch puts the odd pixel at the end
        total = [d * (k - 1) for d, k in zip(m.dilation, m.kernel_size)]
        return [t // 2 for t in total] + [t - t // 2 for t in total]
    return list(m.padding) * 2


@module_converter(nn.Conv1d, nn.Conv2d)
def _conv(g: Graph, m: Any, inputs: list, args: tuple, out: Tensor) -> str:
    nd = len(m.kernel_size)
    pads = _conv_pads(m, nd)
    x = inputs[0]
    if m.padding_mode != "zeros":
        mode = {"reflect": "reflect", "replicate": "edge"}.get(m.padding_mode)
        if mode is None:
            raise _unsupported(m, f"with padding_mode={m.padding_mode!r} is not exportable")
        x = g.node("Pad", [x, g.ints([0, 0, *pads[:nd], 0, 0, *pads[nd:]])], mode=mode)
        pads = [0] * (2 * nd)
    weight = g.constant(host(m.weight), "weight")
    bias = [g.constant(host(m.bias), "bias")] if m.bias is not None else []
    return g.node(
        "Conv", [x, weight, *bias], kernel_shape=list(m.kernel_size), strides=list(m.stride),
        pads=pads, dilations=list(m.dilation), group=m.groups,
    )


@named_module_converter("ConvTranspose1d", "ConvTranspose2d")
def _conv_transpose(g: Graph, m: Any, inputs: list, args: tuple, out: Tensor) -> str:
    """PyTorch's layout (weight (C_in, C_out / groups, k...)) is ONNX's. The
    output padding, which ``output_size=`` may choose, is read off the traced
    output: out = (in - 1) s - 2 p + d (k - 1) + output_padding + 1."""
    if getattr(m, "padding_mode", "zeros") != "zeros":
        raise _unsupported(m, f"with padding_mode={m.padding_mode!r} is not exportable")
    nd = len(m.kernel_size)
    sizes_in, sizes_out = args[0].shape[-nd:], out.shape[-nd:]
    output_padding = [
        o - ((i - 1) * s - 2 * p + d * (k - 1) + 1)
        for i, o, s, p, d, k in zip(sizes_in, sizes_out, m.stride, m.padding, m.dilation, m.kernel_size)
    ]
    weight = g.constant(host(m.weight), "weight")
    bias = [g.constant(host(m.bias), "bias")] if m.bias is not None else []
    return g.node(
        "ConvTranspose", [inputs[0], weight, *bias], kernel_shape=list(m.kernel_size), strides=list(m.stride),
        pads=list(m.padding) * 2, dilations=list(m.dilation), group=m.groups, output_padding=output_padding,
    )


# ---------------------------------------------------------------- pooling
@module_converter(nn.MaxPool1d, nn.MaxPool2d)
def _max_pool(g: Graph, m: Any, inputs: list, args: tuple, out: Any) -> str:
    if m.return_indices:
        raise _unsupported(m, "with return_indices=True is not exportable")
    nd = 1 if isinstance(m, nn.MaxPool1d) else 2
    return g.node(
        "MaxPool", [inputs[0]], kernel_shape=_tuple(m.kernel_size, nd), strides=_tuple(m.stride, nd),
        pads=_tuple(m.padding, nd) * 2, dilations=_tuple(m.dilation, nd), ceil_mode=int(m.ceil_mode),
    )


@module_converter(nn.AvgPool1d, nn.AvgPool2d)
def _avg_pool(g: Graph, m: Any, inputs: list, args: tuple, out: Tensor) -> str:
    if m.divisor_override is not None:
        raise _unsupported(m, "with divisor_override is not exportable")
    nd = 1 if isinstance(m, nn.AvgPool1d) else 2
    return g.node(
        "AveragePool", [inputs[0]], kernel_shape=_tuple(m.kernel_size, nd), strides=_tuple(m.stride, nd),
        pads=_tuple(m.padding, nd) * 2, ceil_mode=int(m.ceil_mode),
        count_include_pad=int(m.count_include_pad),
    )


@module_converter(nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d)
def _adaptive_avg_pool(g: Graph, m: Any, inputs: list, args: tuple, out: Tensor) -> str:
    spatial = list(args[0].shape[2:])
    wanted = [s if o is None else o for s, o in zip(spatial, _tuple(m.output_size, len(spatial)))]
    if all(o == 1 for o in wanted):
        return g.node("GlobalAveragePool", [inputs[0]])
    if any(s % o for s, o in zip(spatial, wanted)):
        raise _unsupported(
            m, f"from size {spatial} to {wanted} is not exportable "
            "(the output size must divide the input size)"
        )
    kernel = [s // o for s, o in zip(spatial, wanted)]
    return g.node("AveragePool", [inputs[0]], kernel_shape=kernel, strides=kernel)


# ---------------------------------------------------------- normalization
@module_converter(nn.BatchNorm1d, nn.BatchNorm2d)
def _batch_norm(g: Graph, m: Any, inputs: list, args: tuple, out: Tensor) -> str:
    if not m.track_running_stats:
        raise _unsupported(
            m, "with track_running_stats=False normalizes with batch statistics: not exportable"
        )
    c, dtype = m.num_features, host(m.running_mean).dtype
    scale = host(m.weight) if m.weight is not None else np.ones(c, dtype)
    shift = host(m.bias) if m.bias is not None else np.zeros(c, dtype)
    arrays = {"bn_scale": scale, "bn_bias": shift,
              "bn_mean": host(m.running_mean), "bn_var": host(m.running_var)}
    names = [g.constant(a, n) for n, a in arrays.items()]
    return g.node("BatchNormalization", [inputs[0], *names], epsilon=float(m.eps))


@module_converter(nn.LayerNorm)
def _layer_norm(g: Graph, m: nn.LayerNorm, inputs: list, args: tuple, out: Tensor) -> str:
    if g.opset_version < 17:
        raise _unsupported(m, f"needs opset_version >= 17 (LayerNormalization), got {g.opset_version}")
    shape = tuple(m.normalized_shape)
    dtype = args[0].array.dtype
    weight = getattr(m, "weight", None)
    bias = getattr(m, "bias", None)
    scale = g.constant(host(weight) if weight is not None else np.ones(shape, dtype), "ln_scale")
    shift = g.constant(host(bias) if bias is not None else np.zeros(shape, dtype), "ln_bias")
    return g.node("LayerNormalization", [inputs[0], scale, shift], axis=-len(shape), epsilon=float(m.eps))


# ------------------------------------------------ regularizers (eval mode)
@module_converter(nn.Dropout)
def _dropout(g: Graph, m: nn.Dropout, inputs: list, args: tuple, out: Tensor) -> str:
    if m.scale_at_test:  # the classic form: multiply by the keep probability at test time
        return g.node("Mul", [inputs[0], _scalar(g, 1.0 - m.p, args[0], "keep")])
    return g.node("Identity", [inputs[0]])


@module_converter(nn.Dropout2d, nn.StochasticDepth, nn.GaussianNoise)
def _identity_in_eval(g: Graph, m: nn.Module, inputs: list, args: tuple, out: Tensor) -> str:
    return g.node("Identity", [inputs[0]])


@module_converter(nn.Embedding)
def _embedding(g: Graph, m: nn.Embedding, inputs: list, args: tuple, out: Tensor) -> str:
    return g.node("Gather", [g.constant(host(m.weight), "embedding"), inputs[0]], axis=0)


# ------------------------------------------------------------ activations
def _simple(op_type: str, **attributes: Any) -> Any:
    def convert(g: Graph, m: nn.Module, inputs: list, args: tuple, out: Tensor) -> str:
        return g.node(op_type, [inputs[0]], **attributes)

    return convert


module_converter(nn.ReLU)(_simple("Relu"))
module_converter(nn.Sigmoid)(_simple("Sigmoid"))
module_converter(nn.Tanh)(_simple("Tanh"))


@module_converter(nn.LeakyReLU)
def _leaky_relu(g: Graph, m: nn.LeakyReLU, inputs: list, args: tuple, out: Tensor) -> str:
    return g.node("LeakyRelu", [inputs[0]], alpha=float(m.negative_slope))


@module_converter(nn.ELU)
def _elu(g: Graph, m: nn.ELU, inputs: list, args: tuple, out: Tensor) -> str:
    return g.node("Elu", [inputs[0]], alpha=float(m.alpha))


@module_converter(nn.SELU)
def _selu(g: Graph, m: nn.SELU, inputs: list, args: tuple, out: Tensor) -> str:
    from gradlab.nn.functional.activation import _SELU_ALPHA, _SELU_SCALE

    return g.node("Selu", [inputs[0]], alpha=_SELU_ALPHA, gamma=_SELU_SCALE)


@module_converter(nn.PReLU)
def _prelu(g: Graph, m: nn.PReLU, inputs: list, args: tuple, out: Tensor) -> str:
    slope = host(m.weight)
    if slope.size > 1:  # one slope per channel, along dimension 1
        slope = slope.reshape((-1,) + (1,) * max(args[0].ndim - 2, 0))
    return g.node("PRelu", [inputs[0], g.constant(slope, "slope")])


@module_converter(nn.SiLU)
def _silu(g: Graph, m: nn.SiLU, inputs: list, args: tuple, out: Tensor) -> str:
    x = inputs[0]
    beta = m.beta
    if isinstance(beta, Tensor):
        scaled = g.node("Mul", [x, g.constant(host(beta), "beta")])
    elif beta != 1.0:
        scaled = g.node("Mul", [x, _scalar(g, beta, args[0], "beta")])
    else:
        scaled = x
    return g.node("Mul", [x, g.node("Sigmoid", [scaled])])


@module_converter(nn.Softplus)
def _softplus(g: Graph, m: nn.Softplus, inputs: list, args: tuple, out: Tensor) -> str:
    """log(1 + e^(beta x)) / beta, and x where beta x > threshold (PyTorch's rule)."""
    x = inputs[0]
    bx = g.node("Mul", [x, _scalar(g, m.beta, args[0], "beta")]) if m.beta != 1.0 else x
    smooth = g.node("Softplus", [bx])
    if m.beta != 1.0:
        smooth = g.node("Div", [smooth, _scalar(g, m.beta, args[0], "beta")])
    linear = g.node("Greater", [bx, _scalar(g, m.threshold, args[0], "threshold")])
    return g.node("Where", [linear, x, smooth])


@module_converter(nn.GELU)
def _gelu(g: Graph, m: nn.GELU, inputs: list, args: tuple, out: Tensor) -> str:
    """0.5 x (1 + erf(x / sqrt 2)), or with ``approximate="tanh"``
    0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""
    x, like = inputs[0], args[0]
    if m.approximate == "tanh":
        cube = g.node("Mul", [g.node("Mul", [x, x]), x])
        inner = g.node("Add", [x, g.node("Mul", [cube, _scalar(g, 0.044715, like)])])
        core = g.node("Tanh", [g.node("Mul", [inner, _scalar(g, math.sqrt(2.0 / math.pi), like)])])
    else:
        core = g.node("Erf", [g.node("Mul", [x, _scalar(g, 1.0 / math.sqrt(2.0), like)])])
    half_x = g.node("Mul", [x, _scalar(g, 0.5, like)])
    return g.node("Mul", [half_x, g.node("Add", [core, _scalar(g, 1.0, like)])])


@module_converter(nn.Hardtanh)
def _hardtanh(g: Graph, m: nn.Hardtanh, inputs: list, args: tuple, out: Tensor) -> str:
    return g.node("Clip", [inputs[0], _scalar(g, m.min_val, args[0]), _scalar(g, m.max_val, args[0])])


def _softmax_axis(m: nn.Softmax, x: Tensor) -> int:
    if m.dim is None:
        if x.ndim > 1:
            raise _unsupported(
                m, "with dim=None is ambiguous for inputs of more than one dimension; give dim"
            )
        return 0
    return m.dim % x.ndim


@module_converter(nn.Softmax)
def _softmax(g: Graph, m: nn.Softmax, inputs: list, args: tuple, out: Tensor) -> str:
    return g.node("Softmax", [inputs[0]], axis=_softmax_axis(m, args[0]))


@module_converter(nn.LogSoftmax)
def _log_softmax(g: Graph, m: nn.LogSoftmax, inputs: list, args: tuple, out: Tensor) -> str:
    return g.node("LogSoftmax", [inputs[0]], axis=_softmax_axis(m, args[0]))


from gradlab.onnx import attention as _attention  # noqa: E402, F401 - registers MultiheadAttention
from gradlab.onnx import recurrent as _recurrent  # noqa: E402, F401 - registers LSTM, GRU, RNN
