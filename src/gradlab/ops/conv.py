"""Convolution by im2col: unfold the input's patches into columns, then one
matrix product per layer.

For an input x of shape (N, C, *S), a kernel of size K = (k_1, ..., k_d),
stride s, dilation r and padding p, ``unfold`` gathers every receptive field
into a matrix

    cols[c, i_1..i_d, o_1..o_d, n] = x_pad[n, c, o_1 s_1 + i_1 r_1, ...]

of shape (C * prod K, prod O * N). A convolution (PyTorch's: a
cross-correlation, no kernel flip) with weights W of shape (O_c, C, *K) is
then ``W.reshape(O_c, C prod K) @ cols``: one large GEMM, whose backward is
two more (``dW = g cols^T``, ``dcols = W^T g``). Grouped convolutions split
the channel axis of both into ``groups`` blocks and use one batched product.

The batch index is the last, fastest-varying one. Each of the prod(K)
copies that build the columns (and each of the adds that fold them back)
then moves runs of O_d * N contiguous numbers instead of runs of O_d, which
matters because NumPy pays a fixed cost per innermost run: on an 8x8
digit image the batch-last layout is several times faster. The product's
result (O_c, *O, N) becomes the (N, O_c, *O) output as a transposed view,
so layers after a convolution see arrays with the batch axis innermost in
memory, and the next convolution reads them in that order at no cost.

``Unfold`` and ``Fold`` (col2im, which adds each column back onto the pixel
it came from) are linear maps that are each other's adjoint, so each is the
other's backward and any order of derivative is available. For 1-D and 2-D
kernels they are the im2col / col2im kernels of
:mod:`gradlab.kernels.im2col` (which also fill the padding, so no padded
copy is made); 3-D kernels and CuPy arrays take the NumPy form here, which
loops over the prod(K) kernel offsets (9 for a 3x3 kernel), never over
batch, channels or pixels.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

from gradlab import backend
from gradlab.autograd.node import Op
from gradlab.kernels.im2col import col2im, im2col
from gradlab.ops.movement import cat
from gradlab.tensor import Tensor


def _out_sizes(spatial: Sequence[int], kernel: tuple, stride: tuple, pads: tuple,
               dilation: tuple) -> tuple[int, ...]:
    """Output size per spatial dimension: (S + lo + hi - r (k - 1) - 1) // s + 1."""
    return tuple((size + lo + hi - r * (k - 1) - 1) // st + 1
                 for size, k, st, (lo, hi), r in zip(spatial, kernel, stride, pads, dilation))


def _offset_slices(offset: tuple, stride: tuple, dilation: tuple, out_sizes: tuple) -> tuple:
    """The slices of the padded spatial axes that kernel offset ``offset``
    reads for every output position."""
    return tuple(slice(i * r, i * r + s * (o - 1) + 1, s) for i, r, s, o in
                 zip(offset, dilation, stride, out_sizes))


def unfold_array(x, kernel: tuple, stride: tuple, pads: tuple, dilation: tuple, value: float = 0.0,
                 layout: str = "cols", out=None):
    """The patches of a raw array ``x`` (N, C, *S).

    ``layout="cols"`` gives the im2col matrix as (C, *K, *O, N) (contiguous,
    written into ``out`` if given); ``layout="windows"`` gives the strided
    view (N, C, *O, *K) without a copy.
    """
    xp = backend.array_module(x)
    nd = len(kernel)
    if layout == "windows":
        if any(lo or hi for lo, hi in pads):
            x = xp.pad(x, ((0, 0), (0, 0), *pads), constant_values=value)
        window = tuple(r * (k - 1) + 1 for k, r in zip(kernel, dilation))
        view = xp.lib.stride_tricks.sliding_window_view(x, window, axis=tuple(range(2, 2 + nd)))
        return view[(slice(None), slice(None)) + tuple(slice(None, None, s) for s in stride)
                    + tuple(slice(None, None, r) for r in dilation)]
    n, c = x.shape[:2]
    batch_last = x.transpose(1, *range(2, 2 + nd), 0)  # (C, *S, N), a view
    out_sizes = _out_sizes(x.shape[2:], kernel, stride, pads, dilation)
    if nd <= 2:  # the im2col kernel, 1-D as 2-D with a unit height
        cols = xp.empty((c, *kernel, *out_sizes, n), dtype=x.dtype) if out is None else out
        x2 = batch_last if nd == 2 else batch_last[:, None]
        im2col(x2, *_as_2d(kernel, stride, pads, dilation, out_sizes), value=value,
               out=cols.reshape(_as_2d_shape(cols.shape, nd)))
        return cols
    if any(lo or hi for lo, hi in pads):
        padded = xp.full((c, *(s + lo + hi for s, (lo, hi) in zip(x.shape[2:], pads)), n), value,
                         dtype=x.dtype)
        inside = tuple(slice(lo, lo + s) for s, (lo, _) in zip(x.shape[2:], pads))
        padded[(slice(None),) + inside] = batch_last
    else:
        padded = batch_last
    cols = xp.empty((c, *kernel, *out_sizes, n), dtype=x.dtype) if out is None else out
    for offset in itertools.product(*(range(k) for k in kernel)):
        reads = _offset_slices(offset, stride, dilation, out_sizes)
        cols[(slice(None), *offset)] = padded[(slice(None),) + reads]
    return cols


class Unfold(Op):
    """x (N, C, *S) -> cols (C, *K, *O, N); backward is :class:`Fold`.

    With ``ones_row=True`` the result is the 2-D matrix (C prod K + 1, prod O N)
    whose last row is all ones, so that a weight matrix with the bias as its
    last column adds the bias inside the matrix product (and receives the
    bias gradient, the row sums of the output gradient, from the same
    product that gives dW).
    """

    reads_inputs = False
    ones_row = False

    def forward(self, x):
        self.in_shape = x.shape
        if not self.ones_row:
            return unfold_array(x, self.kernel, self.stride, self.pads, self.dilation)
        xp = backend.array_module(x)
        n, c = x.shape[:2]
        out_sizes = _out_sizes(x.shape[2:], self.kernel, self.stride, self.pads, self.dilation)
        self.cols_shape = (c, *self.kernel, *out_sizes, n)
        rows, columns = c * math.prod(self.kernel), n * math.prod(out_sizes)
        flat = xp.empty((rows + 1) * columns, dtype=x.dtype)
        unfold_array(x, self.kernel, self.stride, self.pads, self.dilation,
                     out=flat[:rows * columns].reshape(self.cols_shape))
        flat[rows * columns:] = 1
        return flat.reshape(rows + 1, columns)

    def backward(self, g):
        if self.ones_row:
            g = g[:-1].reshape(self.cols_shape)
        return Fold.apply(g, kernel=self.kernel, stride=self.stride, pads=self.pads,
                          dilation=self.dilation, in_shape=self.in_shape)


class Fold(Op):
    """cols (C, *K, *O, N) -> x (N, C, *S), adding overlapping patches
    (col2im); backward is :class:`Unfold`. The result is a view with the
    batch axis innermost in memory (see the module docstring)."""

    reads_inputs = False

    def forward(self, cols):
        xp = backend.array_module(cols)
        nd = len(self.kernel)
        n, c = self.in_shape[:2]
        if nd <= 2:  # the col2im kernel, (C, *S, N) viewed as (N, C, *S)
            out_sizes = cols.shape[1 + nd:1 + 2 * nd]
            _, stride, pads, dilation, _ = _as_2d(self.kernel, self.stride, self.pads, self.dilation,
                                                  out_sizes)
            in_size = ((1,) if nd == 1 else ()) + tuple(self.in_shape[2:])
            acc = col2im(cols.reshape(_as_2d_shape(cols.shape, nd)), in_size, stride, pads, dilation)
            acc = acc.reshape(c, *self.in_shape[2:], n)
            return acc.transpose(nd + 1, 0, *range(1, nd + 1))
        padded = [s + lo + hi for s, (lo, hi) in zip(self.in_shape[2:], self.pads)]
        out_sizes = cols.shape[1 + nd:1 + 2 * nd]
        acc = xp.zeros((c, *padded, n), dtype=cols.dtype)
        for offset in itertools.product(*(range(k) for k in self.kernel)):
            acc[(slice(None),) + _offset_slices(offset, self.stride, self.dilation, out_sizes)] \
                += cols[(slice(None), *offset)]
        crop = tuple(slice(lo, lo + s) for s, (lo, _) in zip(self.in_shape[2:], self.pads))
        return acc[(slice(None),) + crop].transpose(nd + 1, 0, *range(1, nd + 1))

    def backward(self, g):
        return Unfold.apply(g, kernel=self.kernel, stride=self.stride, pads=self.pads,
                            dilation=self.dilation)


class ColumnProduct(Op):
    """A convolution's product Y = W cols of the weights W (O, R) and the
    column matrix cols (R, P), with P = N prod(O) columns (one per sample
    and output position), many more than O or R. Backward:

        dcols = W^T dY,    dW = dY cols^T = (cols dY^T)^T

    The second form of dW is the same sum over P; OpenBLAS runs it 1.25-1.6x
    faster for every convolution of ``benchmarks/bench_steps.py`` (the
    CIFAR-size CNN's second layer, O 32, R 289, P 65536: 13.2 ms against
    8.2 ms), where the product with P as the inner dimension writes its
    longer side (R) as rows. The result is a transposed view; the engine
    copies every ``.grad`` to C order (O R numbers) when it delivers it.
    """

    def forward(self, w, cols):
        return backend.array_module(w).matmul(w, cols)

    def backward(self, g):
        w, cols = self.inputs
        gw = (cols @ g.mT).mT if w._rg else None
        gcols = w.mT @ g if cols._rg else None
        return gw, gcols


def _as_2d_shape(shape: tuple, nd: int) -> tuple:
    """A 1-D column shape (C, k, O, N) as the 2-D one (C, 1, k, 1, O, N)."""
    if nd == 2:
        return shape
    c, k, o, n = shape
    return (c, 1, k, 1, o, n)


def _as_2d(kernel: tuple, stride: tuple, pads: tuple, dilation: tuple, out_sizes: tuple) -> tuple:
    """The geometry of the 2-D im2col / col2im kernels for a 1-D or 2-D one
    (1-D: height 1, kernel height 1)."""
    if len(kernel) == 2:
        return kernel, stride, pads, dilation, out_sizes
    return (1, *kernel), (1, *stride), ((0, 0), *pads), (1, *dilation), (1, *out_sizes)


def _tuple(value: int | Sequence[int], nd: int, name: str) -> tuple[int, ...]:
    if isinstance(value, int) and not isinstance(value, bool):
        return (value,) * nd
    try:
        out = tuple(int(v) for v in value)
    except TypeError:
        raise TypeError(f"{name} must be an int or a tuple of {nd} ints, got {value!r}") from None
    if len(out) != nd:
        raise ValueError(f"{name} must be an int or a tuple of {nd} ints, got {value!r}")
    return out


def conv_pads(padding: str | int | Sequence[int], kernel: tuple, dilation: tuple,
              stride: tuple) -> tuple[tuple[int, int], ...]:
    """(before, after) padding per spatial dimension. ``"same"`` pads a total
    of r (k - 1), the extra pixel of an even total going after (as PyTorch)."""
    nd = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * nd
        if padding != "same":
            raise ValueError(f"padding must be 'valid', 'same', an int or a tuple, got {padding!r}")
        if any(s != 1 for s in stride):
            raise ValueError(f"padding='same' is not supported for strided convolutions (stride={stride})")
        totals = [r * (k - 1) for k, r in zip(kernel, dilation)]
        return tuple((t // 2, t - t // 2) for t in totals)
    pads = _tuple(padding, nd, "padding")
    if any(p < 0 for p in pads):
        raise ValueError(f"padding must be non-negative, got {padding!r}")
    return tuple((p, p) for p in pads)


def conv(x: Tensor, weight: Tensor, bias: Tensor | None, stride, padding, dilation, groups: int,
         nd: int) -> Tensor:
    """N-d convolution (cross-correlation) of ``x`` (N, C, *S) with
    ``weight`` (O, C / groups, *K), as ``torch.nn.functional.conv{nd}d``."""
    if x.ndim != nd + 2:
        raise RuntimeError(
            f"conv{nd}d: expected a {nd + 2}-D input (N, C, {'L' if nd == 1 else 'H, W'}), "
            f"got shape {tuple(x.shape)}"
        )
    if weight.ndim != nd + 2:
        raise RuntimeError(f"conv{nd}d: weight must be {nd + 2}-D, got shape {tuple(weight.shape)}")
    if not isinstance(groups, int) or groups < 1:
        raise ValueError(f"groups must be a positive int, got {groups!r}")
    n, c = x.shape[:2]
    out_c = weight.shape[0]
    kernel = tuple(weight.shape[2:])
    if c != weight.shape[1] * groups or out_c % groups:
        raise RuntimeError(
            f"conv{nd}d: input of shape {tuple(x.shape)} has {c} channels, but weight of shape "
            f"{tuple(weight.shape)} with groups={groups} expects {weight.shape[1] * groups} "
            "(and out_channels divisible by groups)"
        )
    stride = _tuple(stride, nd, "stride")
    dilation = _tuple(dilation, nd, "dilation")
    if any(s < 1 for s in stride) or any(r < 1 for r in dilation):
        raise ValueError(f"stride and dilation must be positive, got {stride} and {dilation}")
    pads = conv_pads(padding, kernel, dilation, stride)
    out_sizes = _out_sizes(x.shape[2:], kernel, stride, pads, dilation)
    if any(o < 1 for o in out_sizes):
        raise RuntimeError(
            f"conv{nd}d: input of spatial size {tuple(x.shape[2:])} (padded by {pads}) is smaller "
            f"than the dilated kernel {kernel} (dilation {dilation})"
        )
    rows = c // groups * math.prod(kernel)
    columns = n * math.prod(out_sizes)
    fold_bias = bias is not None and groups == 1
    cols = Unfold.apply(x, kernel=kernel, stride=stride, pads=pads, dilation=dilation,
                        ones_row=fold_bias)
    if fold_bias:  # [W | b] @ [cols; 1]: the bias rides in the product (see Unfold)
        out = ColumnProduct.apply(cat([weight.reshape(out_c, rows), bias.reshape(out_c, 1)], 1), cols)
    elif groups == 1:
        out = ColumnProduct.apply(weight.reshape(out_c, rows), cols.reshape(rows, columns))
    else:
        out = weight.reshape(groups, out_c // groups, rows) @ cols.reshape(groups, rows, columns)
    out = out.reshape(out_c, *out_sizes, n).permute(nd + 1, 0, *range(1, nd + 1))
    if bias is not None and not fold_bias:
        out = out + bias.reshape(out_c, *([1] * nd))
    return out
