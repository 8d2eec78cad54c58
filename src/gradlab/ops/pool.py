"""Pooling: max and average over sliding windows.

1-D and 2-D windows on NumPy float arrays run on the pooling kernels
(:mod:`gradlab.ops.pool_planes`); this module holds the argument checks and
the NumPy form, used for 3-D windows and CuPy arrays:

Max pooling finds, for each output, the kernel offset of the largest
element of its window (the first one on ties, as PyTorch); the output
gathers those elements. Its backward scatters the gradient back to them, and
the backward of the scatter is the gather again, so the pair is
differentiable to any order. Both loop over the prod(K) kernel offsets, each
a strided view of the whole batch, never over batch, channels or pixels. Average pooling is the mean of the
unfolded windows (see :mod:`gradlab.ops.conv`), so its derivative comes from
Unfold's.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from gradlab import backend
from gradlab.autograd.node import Op
from gradlab.kernels._layout import takes
from gradlab.ops.conv import Unfold, _tuple, unfold_array
from gradlab.ops.pool_planes import avg_pool_planes, max_pool_planes
from gradlab.tensor import Tensor


class _Windows:
    """Shared geometry of the max-pool pair: the window view of an array and
    the kernel offsets."""

    def windows(self, x, value=0.0):
        return unfold_array(x, self.kernel, self.stride, self.pads, self.dilation, value=value,
                            layout="windows")


class MaxPoolGather(Op, _Windows):
    """x -> the element of each window at the offset ``which`` (the argmax
    found in :func:`max_pool`); backward is :class:`MaxPoolScatter`."""

    value = None  # the gathered values, when the caller already has them

    def forward(self, x):
        self.in_shape = x.shape
        if self.value is not None:
            value, self.value = self.value, None
            return value
        windows = self.windows(x)
        out = None
        for k, offset in enumerate(self.offsets):
            term = windows[(Ellipsis, *offset)] * (self.which == k)
            out = term if out is None else out + term
        return out

    def backward(self, g):
        return MaxPoolScatter.apply(g, kernel=self.kernel, stride=self.stride, pads=self.pads,
                                    dilation=self.dilation, offsets=self.offsets, which=self.which,
                                    in_shape=self.in_shape)


class MaxPoolScatter(Op, _Windows):
    """g -> zeros of the input's shape with each g added at the position of
    its window's maximum; backward is :class:`MaxPoolGather`."""

    def forward(self, g):
        padded = tuple(s + lo + hi for s, (lo, hi) in zip(self.in_shape[2:], self.pads))
        if self.stride == self.kernel and all(r == 1 for r in self.dilation):
            acc = self._tiled(g, padded)
        else:
            acc = self._overlapping(g, padded)
        crop = tuple(slice(lo, lo + s) for s, (lo, _) in zip(self.in_shape[2:], self.pads))
        return acc[(slice(None), slice(None)) + crop]

    def _tiled(self, g, padded):
        """Windows that tile the input: write each offset's share into its
        strided slice of a (N, C, O_1, k_1, O_2, k_2, ...) array, which
        reshapes to the input's layout without a copy (twice as fast as
        adding into a zeroed input)."""
        xp = backend.array_module(g)
        n, c = g.shape[:2]
        sizes = g.shape[2:]
        interleaved = tuple(v for o, k in zip(sizes, self.kernel) for v in (o, k))
        # The gradient takes the layout of the input (the batch axis is innermost
        # after a convolution, see gradlab.ops.conv), and g that of ``which``
        # first: NumPy runs elementwise work on arrays of different layouts
        # several times slower than a copy that converts one of them.
        if self.which.strides[0] < self.which.strides[1]:
            blocks = xp.empty((c,) + interleaved + (n,), dtype=g.dtype)
            blocks = blocks.transpose(len(interleaved) + 1, *range(len(interleaved) + 1))
        else:
            blocks = xp.empty((n, c) + interleaved, dtype=g.dtype)
        if _element_strides(g) != _element_strides(self.which):
            g = _like(g, self.which)
        for k, offset in enumerate(self.offsets):
            where = (slice(None), slice(None)) + tuple(v for i in offset for v in (slice(None), i))
            xp.multiply(g, self.which == k, out=blocks[where])
        covered = tuple(o * k for o, k in zip(sizes, self.kernel))
        blocks = blocks.reshape((n, c) + covered)
        if covered == padded:
            return blocks
        acc = xp.zeros((n, c) + padded, dtype=g.dtype)  # a border no window reaches
        acc[(slice(None), slice(None)) + tuple(slice(0, v) for v in covered)] = blocks
        return acc

    def _overlapping(self, g, padded):
        """General windows: add each offset's share into the strided slice of
        the input that the offset reads (as col2im does)."""
        xp = backend.array_module(g)
        acc = xp.zeros(self.in_shape[:2] + padded, dtype=g.dtype)
        sizes = g.shape[2:]
        # within one kernel offset the windows' positions are distinct, so += is safe
        for k, offset in enumerate(self.offsets):
            where = tuple(slice(i * r, i * r + s * (o - 1) + 1, s) for i, r, s, o in
                          zip(offset, self.dilation, self.stride, sizes))
            acc[(slice(None), slice(None)) + where] += g * (self.which == k)
        return acc

    def backward(self, g):
        return MaxPoolGather.apply(g, kernel=self.kernel, stride=self.stride, pads=self.pads,
                                   dilation=self.dilation, offsets=self.offsets, which=self.which)


def _element_strides(a) -> tuple[int, ...]:
    return tuple(s // a.itemsize for s in a.strides)


def _like(a, template):
    """``a`` copied into the memory layout of ``template`` (same shape)."""
    out = backend.array_module(a).empty_like(template, dtype=a.dtype)
    out[...] = a
    return out


def _pool_size(size: int, k: int, s: int, p: int, r: int, ceil_mode: bool) -> int:
    """Output length of a pooling: floor (or ceil) of (L + 2p - r(k-1) - 1)/s + 1; with
    ``ceil_mode`` the last window must still start inside the input or its left padding,
    as PyTorch."""
    span = size + 2 * p - r * (k - 1) - 1
    if not ceil_mode or span < 0:
        return span // s + 1
    out = -(-span // s) + 1
    if (out - 1) * s >= size + p:
        out -= 1
    return out


def _pool_args(x: Tensor, kernel_size, stride, padding, dilation, nd: int, name: str,
               ceil_mode: bool = False) -> tuple:
    """(kernel, stride, pads, dilation, output sizes); ``pads`` holds (left, right) per
    axis, the right one grown so that the last window of ``ceil_mode`` fits."""
    if x.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"{name}: expected a {nd + 1}-D or {nd + 2}-D input, got shape {tuple(x.shape)}")
    kernel = _tuple(kernel_size, nd, "kernel_size")
    stride = kernel if stride is None or stride == [] or stride == () else _tuple(stride, nd, "stride")
    pads = _tuple(padding, nd, "padding")
    dilation = _tuple(dilation, nd, "dilation")
    if any(k < 1 for k in kernel) or any(s < 1 for s in stride) or any(r < 1 for r in dilation):
        raise ValueError(f"{name}: kernel_size, stride and dilation must be positive, got "
                         f"{kernel}, {stride}, {dilation}")
    if any(p < 0 or p > k // 2 for p, k in zip(pads, kernel)):
        raise RuntimeError(f"{name}: padding should be at most half of the kernel size, "
                           f"but got padding={pads} and kernel_size={kernel}")
    sizes = tuple(_pool_size(s, k, st, p, r, ceil_mode) for s, k, st, p, r in
                  zip(x.shape[-nd:], kernel, stride, pads, dilation))
    if any(o < 1 for o in sizes):
        raise RuntimeError(f"{name}: output size {sizes} is too small for input {tuple(x.shape)}")
    # the right padding that the last window reaches (beyond p only with ceil_mode)
    reach = tuple(max(p, (o - 1) * st + r * (k - 1) + 1 - s - p) for o, st, r, k, s, p in
                  zip(sizes, stride, dilation, kernel, x.shape[-nd:], pads))
    return kernel, stride, tuple(zip(pads, reach)), dilation, sizes


def max_pool(x: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
             return_indices: bool = False, nd: int = 2):
    """Max over windows of ``x`` (N, C, *S) or (C, *S); with
    ``return_indices`` also the flat index of each maximum within its
    (n, c) plane, as PyTorch."""
    name = f"max_pool{nd}d"
    unbatched = x.ndim == nd + 1
    if unbatched:
        x = x.unsqueeze(0)
    kernel, stride, pads, dilation, sizes = _pool_args(x, kernel_size, stride, padding, dilation, nd, name,
                                                       bool(ceil_mode))
    if nd <= 2 and takes(x.array):
        out, indices = max_pool_planes(x, kernel, stride, pads, dilation, sizes)
        if unbatched:
            out, indices = out.squeeze(0), indices.squeeze(0)
        return (out, indices) if return_indices else out
    xp = backend.array_module(x.array)
    windows = unfold_array(x.array, kernel, stride, pads, dilation, value=-xp.inf, layout="windows")
    n, c = x.shape[:2]
    # Running maximum over the prod(K) kernel offsets, each a strided view of
    # the whole batch; then the first offset that attains it (PyTorch's
    # choice on ties). With ne_k = (window_k != max), that offset is
    #     which = ne_0 (1 + ne_1 (1 + ... (1 + ne_{K-2})))
    # (every factor up to the first equal offset is 1, the rest vanish),
    # evaluated from the inside out in small integers.
    offsets = list(itertools.product(*(range(k) for k in kernel)))
    best = windows[(Ellipsis, *offsets[0])].copy(order="K")  # keeps x's layout (see _tiled)
    for offset in offsets[1:]:
        xp.maximum(best, windows[(Ellipsis, *offset)], out=best)
    which = xp.zeros_like(best, dtype=xp.uint8 if len(offsets) <= 256 else xp.int64)
    for k in range(len(offsets) - 2, -1, -1):
        which += 1
        which *= windows[(Ellipsis, *offsets[k])] != best
    out = MaxPoolGather.apply(x, kernel=kernel, stride=stride, pads=pads, dilation=dilation,
                              offsets=offsets, which=which, value=best)
    if unbatched:
        out = out.squeeze(0)
    if return_indices:
        # position of each maximum in its (n, c) plane: sum over axes of (o s + i r - p) * plane stride
        table = xp.asarray(offsets, dtype=xp.int64)
        plane = 0
        for axis, (size, s, r, (p, _)) in enumerate(zip(x.shape[2:], stride, dilation, pads)):
            o = xp.arange(sizes[axis]).reshape([-1] + [1] * (nd - 1 - axis))
            plane = plane * size + (o * s + table[which, axis] * r - p)
        indices = Tensor._make(xp.broadcast_to(plane, (n, c) + sizes).astype("int64"))
        return out, (indices.squeeze(0) if unbatched else indices)
    return out


def avg_pool(x: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
             count_include_pad: bool = True, divisor_override: int | None = None, nd: int = 2) -> Tensor:
    """Mean over windows of ``x`` (N, C, *S) or (C, *S). Padding counts in
    the divisor unless ``count_include_pad=False``; ``divisor_override``
    replaces the divisor."""
    name = f"avg_pool{nd}d"
    unbatched = x.ndim == nd + 1
    if unbatched:
        x = x.unsqueeze(0)
    kernel, stride, pads, dilation, sizes = _pool_args(x, kernel_size, stride, padding, 1, nd, name,
                                                       bool(ceil_mode))
    if nd <= 2 and takes(x.array):
        if divisor_override is not None and divisor_override == 0:
            raise RuntimeError("divisor_override must be non-zero")
        if divisor_override is not None:
            divisor = np.full(sizes, float(divisor_override))
        elif not any(hi > lo for lo, hi in pads) and (count_include_pad or not any(lo for lo, _ in pads)):
            divisor = np.full(sizes, float(math.prod(kernel)))
        else:
            divisor = _window_counts(x, kernel, stride, pads, dilation, sizes, count_include_pad)
        out = avg_pool_planes(x, kernel, stride, pads, divisor, sizes)
        return out.squeeze(0) if unbatched else out
    n, c = x.shape[:2]
    cols = Unfold.apply(x, kernel=kernel, stride=stride, pads=pads, dilation=dilation)
    total = cols.reshape(c, math.prod(kernel), *sizes, n).sum(1).permute(nd + 1, 0, *range(1, nd + 1))
    overhang = any(hi > lo for lo, hi in pads)  # ceil_mode windows past the padded input
    if divisor_override is not None:
        if divisor_override == 0:
            raise RuntimeError("divisor_override must be non-zero")
        out = total / divisor_override
    elif not overhang and (count_include_pad or not any(lo for lo, _ in pads)):
        out = total / math.prod(kernel)
    else:
        counts = _window_counts(x, kernel, stride, pads, dilation, sizes, count_include_pad)
        out = total / Tensor._make(counts)
    return out.squeeze(0) if unbatched else out


def _window_counts(x: Tensor, kernel, stride, pads, dilation, sizes, count_include_pad: bool):
    """The divisor of each window, as PyTorch: the window's cells inside the
    padded input (``count_include_pad``) or inside the input itself; the
    cells past the padding that ceil_mode reaches never count."""
    xp = backend.array_module(x.array)
    mask = None
    for size, (lo, hi) in zip(x.shape[2:], pads):
        line = xp.zeros(size + lo + hi, dtype=x.dtype)
        if count_include_pad:
            line[: size + 2 * lo] = 1
        else:
            line[lo: lo + size] = 1
        mask = line if mask is None else mask[..., None] * line
    mask = mask.reshape((1, 1) + mask.shape)
    no_pads = tuple((0, 0) for _ in pads)
    return unfold_array(mask, kernel, stride, no_pads, dilation).reshape(math.prod(kernel), *sizes).sum(0)
