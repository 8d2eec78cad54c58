"""Transposed convolutions ("deconvolutions"), as
``torch.nn.functional.conv_transpose1d/2d``.

A transposed convolution is the adjoint (the input-gradient) of the
convolution with the same weight, stride, padding and dilation. With the
input x (N, C_in, *O) and the weight W (C_in, C_out / groups, *K), each input
pixel scatters a weighted copy of the kernel into the output:

    cols[o, k, i, n] = sum_c W[c, o, k] x[n, c, i]            (one matrix product)
    y[n, o, i s + k r - p] += cols[o, k, i, n]                 (col2im)

which is the im2col formulation of :mod:`gradlab.ops.conv` run backwards:
the product is ``W^T x`` and col2im is that module's ``Fold``. Both are
differentiable ops, so gradients of any order follow (the backward of Fold
is Unfold: dx is the ordinary convolution of dy with W). The output size is

    S_out = (S_in - 1) s - 2 p + r (k - 1) + output_padding + 1.

Reference: Dumoulin & Visin, "A guide to convolution arithmetic for deep
learning" (2016), section 4.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from gradlab.ops import pad
from gradlab.ops.conv import Fold, _tuple
from gradlab.tensor import Tensor

__all__ = ["conv_transpose1d", "conv_transpose2d", "conv_transpose_output_padding"]


def conv_transpose_output_padding(input_size: Sequence[int], output_size: Sequence[int],
                                  kernel: tuple, stride: tuple, padding: tuple,
                                  dilation: tuple) -> tuple[int, ...]:
    """The ``output_padding`` that makes a transposed convolution produce
    ``output_size`` (its last ``len(kernel)`` entries), as PyTorch's
    ``ConvTransposeNd.forward(x, output_size=...)``."""
    nd = len(kernel)
    output_size = tuple(int(s) for s in output_size)
    if len(output_size) == nd + 2:
        output_size = output_size[2:]
    if len(output_size) != nd:
        raise ValueError(f"output_size must have {nd} or {nd + 2} elements (got {len(output_size)})")
    pads = []
    for size, want, k, s, p, r in zip(input_size, output_size, kernel, stride, padding, dilation):
        smallest = (size - 1) * s - 2 * p + r * (k - 1) + 1
        largest = smallest + s - 1
        if not smallest <= want <= largest:
            raise ValueError(f"requested an output size of {output_size}, but valid sizes range from "
                             f"{smallest} to {largest} (for an input of {tuple(input_size)})")
        pads.append(want - smallest)
    return tuple(pads)


def _conv_transpose(x: Tensor, weight: Tensor, bias: Tensor | None, stride: Any, padding: Any,
                    output_padding: Any, groups: int, dilation: Any, nd: int) -> Tensor:
    name = f"conv_transpose{nd}d"
    if x.ndim == nd + 1:  # unbatched
        return _conv_transpose(x.unsqueeze(0), weight, bias, stride, padding, output_padding, groups,
                               dilation, nd).squeeze(0)
    if x.ndim != nd + 2:
        raise RuntimeError(f"{name}: expected a {nd + 1}-D or {nd + 2}-D input, got shape {tuple(x.shape)}")
    if weight.ndim != nd + 2:
        raise RuntimeError(f"{name}: weight must be {nd + 2}-D (C_in, C_out / groups, *kernel), "
                           f"got shape {tuple(weight.shape)}")
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
        raise ValueError(f"groups must be a positive int, got {groups!r}")
    n, c_in = x.shape[:2]
    if c_in != weight.shape[0] or c_in % groups:
        raise RuntimeError(f"{name}: input of shape {tuple(x.shape)} has {c_in} channels, but weight of "
                           f"shape {tuple(weight.shape)} expects {weight.shape[0]} (divisible by "
                           f"groups={groups})")
    if x.dtype != weight.dtype:
        raise RuntimeError(f"{name}: input dtype {x.dtype} and weight dtype {weight.dtype} differ")
    kernel = tuple(weight.shape[2:])
    stride = _tuple(stride, nd, "stride")
    padding = _tuple(padding, nd, "padding")
    dilation = _tuple(dilation, nd, "dilation")
    output_padding = _tuple(output_padding, nd, "output_padding")
    if any(s < 1 for s in stride) or any(r < 1 for r in dilation) or any(p < 0 for p in padding):
        raise ValueError(f"{name}: stride and dilation must be positive and padding non-negative, got "
                         f"stride={stride}, dilation={dilation}, padding={padding}")
    for op, s, r in zip(output_padding, stride, dilation):
        if not 0 <= op < max(s, r):
            raise ValueError(f"{name}: output_padding must be smaller than either stride or dilation, "
                             f"got output_padding={output_padding}, stride={stride}, dilation={dilation}")
    in_sizes = tuple(x.shape[2:])
    out_sizes = tuple((i - 1) * s - 2 * p + r * (k - 1) + op + 1 for i, s, p, r, k, op
                      in zip(in_sizes, stride, padding, dilation, kernel, output_padding))
    if any(o < 1 for o in out_sizes):
        raise RuntimeError(f"{name}: input of spatial size {in_sizes} gives a non-positive output size "
                           f"{out_sizes}")
    c_out = weight.shape[1] * groups
    per_group = c_in // groups
    columns = n * math.prod(in_sizes)
    # x as (groups, C_in / groups, prod O * N): the batch axis last, as Fold's columns
    x_cols = x.permute(1, *range(2, 2 + nd), 0).reshape(groups, per_group, columns)
    w = weight.reshape(groups, per_group, weight.shape[1] * math.prod(kernel))
    cols = (w.mT @ x_cols).reshape(c_out, *kernel, *in_sizes, n)
    # Fold adds column (o, k, i) onto pixel i s + k r of the full result, of
    # size (O - 1) s + r (k - 1) + 1 (exactly what the columns cover, so that
    # Fold's backward, Unfold, gives back O positions); the output is its
    # window [p, p + S_out), with zeros where output_padding reaches past it.
    full_sizes = tuple((i - 1) * s + r * (k - 1) + 1
                       for i, s, r, k in zip(in_sizes, stride, dilation, kernel))
    out = Fold.apply(cols, kernel=kernel, stride=stride, pads=((0, 0),) * nd, dilation=dilation,
                     in_shape=(n, c_out, *full_sizes))
    out = out[(slice(None), slice(None)) + tuple(slice(p, p + o) for p, o in zip(padding, out_sizes))]
    beyond = [o - max(0, min(f, p + o) - p) for p, o, f in zip(padding, out_sizes, full_sizes)]
    if any(beyond):
        out = pad(out, [v for b in reversed(beyond) for v in (0, b)])
    if bias is not None:
        if bias.shape != (c_out,):
            raise RuntimeError(f"{name}: bias must have shape ({c_out},), got {tuple(bias.shape)}")
        out = out + bias.reshape(c_out, *([1] * nd))
    return out


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,  # noqa: A002
                     padding: Any = 0, output_padding: Any = 0, groups: int = 1,
                     dilation: Any = 1) -> Tensor:
    """1-D transposed convolution of (N, C_in, L) with (C_in, C_out / groups, k)
    to (N, C_out, (L - 1) s - 2 p + r (k - 1) + output_padding + 1)."""
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 1)


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,  # noqa: A002
                     padding: Any = 0, output_padding: Any = 0, groups: int = 1,
                     dilation: Any = 1) -> Tensor:
    """2-D transposed convolution of (N, C_in, H, W) with
    (C_in, C_out / groups, kH, kW); see the module docstring for the math.

    Example:
        >>> import gradlab
        >>> w = gradlab.randn(4, 2, 4, 4)
        >>> conv_transpose2d(gradlab.randn(1, 4, 4, 4), w, stride=2, padding=1).shape
        (1, 2, 8, 8)
    """
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 2)
