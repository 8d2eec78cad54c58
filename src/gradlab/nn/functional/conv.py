"""Linear maps, convolutions and pooling (the primitives live in
:mod:`gradlab.ops.conv` and :mod:`gradlab.ops.pool`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from gradlab import backend
from gradlab.autograd.node import Op
from gradlab.ops import conv as _conv
from gradlab.ops import pool as _pool
from gradlab.ops.linalg import stacked_matmul
from gradlab.tensor import Tensor

__all__ = [
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "avg_pool1d", "avg_pool2d", "conv1d", "conv2d",
    "linear", "max_pool1d", "max_pool2d",
]


class LinearOp(Op):
    """y = x W^T + b as one node. Fused because the composed form
    (transpose, matmul, broadcast add) hands the optimizer dW as a transposed
    view that the engine must copy, and sums the bias gradient through the
    generic broadcast rule; here

        dx = g W,   dW = g^T x (contiguous, already (out, in)),   db = sum_rows g

    written with Tensor ops, so that it can be differentiated again.
    """

    def forward(self, x, w, b=None):
        out = stacked_matmul(backend.array_module(x), x, w.T)
        if b is not None:
            out += b
        return out

    def backward(self, g):
        x, w = self.inputs[:2]
        rows = g.reshape(-1, g.shape[-1]) if g.ndim != 2 else g
        grads = [g @ w if x._rg else None,
                 rows.mT @ (x.reshape(-1, x.shape[-1]) if x.ndim != 2 else x) if w._rg else None]
        if len(self.inputs) == 3:
            grads.append(rows.sum(0) if self.inputs[2]._rg else None)
        return tuple(grads)


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:  # noqa: A002
    """y = x W^T + b, with W of shape (out_features, in_features)."""
    if input.ndim == 0 or weight.ndim != 2 or input.shape[-1] != weight.shape[-1]:
        raise RuntimeError(
            f"linear: input of shape {tuple(input.shape)} has {input.shape[-1] if input.ndim else 0} "
            f"features, but weight of shape {tuple(weight.shape)} expects {weight.shape[-1]}"
        )
    if input.dtype != weight.dtype:
        raise RuntimeError(f"linear: input dtype {input.dtype} and weight dtype {weight.dtype} differ")
    if bias is None:
        return LinearOp.apply(input, weight)
    if bias.shape != (weight.shape[0],):
        raise RuntimeError(f"linear: bias must have shape ({weight.shape[0]},), got {tuple(bias.shape)}")
    return LinearOp.apply(input, weight, bias)


def _batched(x: Tensor, nd: int, fn: Any) -> Tensor:
    """Run ``fn`` on a batch, adding the batch dimension to an unbatched input."""
    if x.ndim == nd + 1:
        return fn(x.unsqueeze(0)).squeeze(0)
    return fn(x)


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,  # noqa: A002
           padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """1-D convolution (cross-correlation) of (N, C, L) with (O, C/groups, k);
    see :mod:`gradlab.ops.conv` for the method."""
    return _batched(input, 1, lambda x: _conv.conv(x, weight, bias, stride, padding, dilation, groups, 1))


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,  # noqa: A002
           padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """2-D convolution (cross-correlation) of (N, C, H, W) with
    (O, C/groups, kH, kW):

        out[n, o, i, j] = b[o] + sum_{c, u, v} W[o, c, u, v] x_pad[n, g(o) + c, i s + u r, j s + v r]

    ``padding`` may be an int, a pair, ``"valid"`` or ``"same"``.
    """
    return _batched(input, 2, lambda x: _conv.conv(x, weight, bias, stride, padding, dilation, groups, 2))


def max_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,  # noqa: A002
               dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = False) -> Any:
    return _pool.max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, nd=1)


def max_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,  # noqa: A002
               dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """The maximum of each window (stride defaults to the kernel size)."""
    return _pool.max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, nd=2)


def avg_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,  # noqa: A002
               ceil_mode: bool = False, count_include_pad: bool = True) -> Tensor:
    return _pool.avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, None, nd=1)


def avg_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,  # noqa: A002
               ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """The mean of each window (stride defaults to the kernel size)."""
    return _pool.avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                          divisor_override, nd=2)


def _bins(size: int, out: int) -> np.ndarray:
    """(out, size) matrix averaging PyTorch's adaptive bins:
    [floor(i size / out), ceil((i + 1) size / out))."""
    m = np.zeros((out, size))
    for i in range(out):
        lo, hi = (i * size) // out, -(-((i + 1) * size) // out)
        m[i, lo:hi] = 1.0 / (hi - lo)
    return m


def _adaptive(input: Tensor, output_size: Any, nd: int) -> Tensor:  # noqa: A002
    if input.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"adaptive_avg_pool{nd}d: expected a {nd + 1}-D or {nd + 2}-D input, "
                           f"got shape {tuple(input.shape)}")
    sizes = (output_size,) * nd if isinstance(output_size, int) or output_size is None else tuple(output_size)
    if len(sizes) != nd:
        raise ValueError(f"output_size must be an int or a tuple of {nd}, got {output_size!r}")
    spatial = input.shape[-nd:]
    sizes = tuple(s if o is None else o for o, s in zip(sizes, spatial))
    if any(o < 1 for o in sizes):
        raise ValueError(f"output_size must be positive, got {output_size!r}")
    out = input
    # each spatial axis is a linear map: average with a (out, size) bin matrix
    for axis, (size, o) in enumerate(zip(spatial, sizes)):
        if size == o:
            continue
        dim = input.ndim - nd + axis
        if size % o == 0:
            shape = out.shape[:dim] + (o, size // o) + out.shape[dim + 1:]
            out = out.reshape(shape).mean(dim + 1)
        else:
            m = _bins(size, o).astype(input.dtype)
            m = Tensor._make(backend.to_device(m, input.device))
            out = (out.transpose(dim, -1) @ m.T).transpose(dim, -1)
    return out


def adaptive_avg_pool1d(input: Tensor, output_size: Any) -> Tensor:  # noqa: A002
    return _adaptive(input, output_size, 1)


def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:  # noqa: A002
    """Average pooling to a fixed output size (bins as PyTorch's: bin i
    covers [floor(i S / O), ceil((i + 1) S / O)))."""
    return _adaptive(input, output_size, 2)


