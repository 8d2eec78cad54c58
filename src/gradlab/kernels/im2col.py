"""im2col and col2im for 2-D convolutions (Unfold and Fold).

With the input laid out as x (C, H, W, N) (the batch innermost, see
:mod:`gradlab.ops.conv`), kernel (kh, kw), stride s, padding p and
dilation r, the column matrix is

    cols[c, i, j, oh, ow, n] = x[c, oh s_h + i r_h - p_h, ow s_w + j r_w - p_w, n]

(``value`` where that position falls in the padding), and col2im is its
adjoint: every column entry added back onto the pixel it came from,

    x[c, h, w, n] = sum over (i, j, oh, ow) reading (h, w) of cols[c, i, j, oh, ow, n].

A 1-D convolution is the case H = 1, kh = 1. The kernels read x through
its strides (any layout); they are fastest when n is the innermost axis.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from gradlab.backend import array_module
from gradlab.kernels._jit import cpu_kernel, prange
from gradlab.kernels._layout import takes

__all__ = ["col2im", "col2im_reference", "im2col", "im2col_reference"]


@cpu_kernel
def im2col_kernel(x, sh, sw, ph, pw, dh, dw, value, cols):
    _, height, width, batch = x.shape
    channels, kh, kw, out_h, out_w, _ = cols.shape
    for job in prange(channels * kh * kw):
        c, i, j = job // (kh * kw), job // kw % kh, job % kw
        for oh in range(out_h):
            h = oh * sh + i * dh - ph
            for ow in range(out_w):
                w = ow * sw + j * dw - pw
                if 0 <= h < height and 0 <= w < width:
                    for n in range(batch):
                        cols[c, i, j, oh, ow, n] = x[c, h, w, n]
                else:
                    for n in range(batch):
                        cols[c, i, j, oh, ow, n] = value


@cpu_kernel
def col2im_kernel(cols, sh, sw, ph, pw, dh, dw, x):
    _, height, width, batch = x.shape
    channels, kh, kw, out_h, out_w, _ = cols.shape
    for c in prange(channels):
        for h in range(height):
            for w in range(width):
                for n in range(batch):
                    x[c, h, w, n] = 0.0
        for i in range(kh):
            for j in range(kw):
                for oh in range(out_h):
                    h = oh * sh + i * dh - ph
                    if h < 0 or h >= height:
                        continue
                    for ow in range(out_w):
                        w = ow * sw + j * dw - pw
                        if 0 <= w < width:
                            for n in range(batch):
                                x[c, h, w, n] += cols[c, i, j, oh, ow, n]


def _windows(kernel: tuple, stride: tuple, pads: tuple, dilation: tuple, in_size: tuple,
             out_size: tuple):
    """For each kernel offset (i, j): the slices of the padded input it reads."""
    for offset in itertools.product(range(kernel[0]), range(kernel[1])):
        yield offset, tuple(slice(k * r, k * r + s * (o - 1) + 1, s)
                            for k, r, s, o in zip(offset, dilation, stride, out_size))


def im2col_reference(x: Any, kernel: tuple, stride: tuple, pads: tuple, dilation: tuple,
                     out_size: tuple, value: float = 0.0) -> Any:
    """cols (C, kh, kw, OH, OW, N) of x (C, H, W, N), in NumPy; ``pads``
    holds (before, after) per spatial axis."""
    xp = array_module(x)
    c, h, w, n = x.shape
    padded = xp.full((c, h + sum(pads[0]), w + sum(pads[1]), n), value, dtype=x.dtype)
    padded[:, pads[0][0]:pads[0][0] + h, pads[1][0]:pads[1][0] + w] = x
    cols = xp.empty((c, *kernel, *out_size, n), dtype=x.dtype)
    for (i, j), (rows, columns) in _windows(kernel, stride, pads, dilation, (h, w), out_size):
        cols[:, i, j] = padded[:, rows, columns]
    return cols


def im2col(x: Any, kernel: tuple, stride: tuple, pads: tuple, dilation: tuple, out_size: tuple,
           value: float = 0.0, out: Any = None) -> Any:
    """The column matrix (C, kh, kw, OH, OW, N) of x (C, H, W, N), written
    into ``out`` if given. Padding is symmetric for the kernel (the after
    side is implied by ``out_size``)."""
    if not takes(x):
        cols = im2col_reference(x, kernel, stride, pads, dilation, out_size, value)
        if out is None:
            return cols
        out[...] = cols
        return out
    if out is None:
        out = np.empty((x.shape[0], *kernel, *out_size, x.shape[3]), dtype=x.dtype)
    im2col_kernel(x, stride[0], stride[1], pads[0][0], pads[1][0], dilation[0], dilation[1], value, out)
    return out


def col2im_reference(cols: Any, in_size: tuple, stride: tuple, pads: tuple, dilation: tuple) -> Any:
    """x (C, H, W, N) summed back from cols (C, kh, kw, OH, OW, N), in NumPy."""
    xp = array_module(cols)
    c, kh, kw, out_h, out_w, n = cols.shape
    h, w = in_size
    acc = xp.zeros((c, h + sum(pads[0]), w + sum(pads[1]), n), dtype=cols.dtype)
    for (i, j), (rows, columns) in _windows((kh, kw), stride, pads, dilation, in_size, (out_h, out_w)):
        acc[:, rows, columns] += cols[:, i, j]
    return acc[:, pads[0][0]:pads[0][0] + h, pads[1][0]:pads[1][0] + w]


def col2im(cols: Any, in_size: tuple, stride: tuple, pads: tuple, dilation: tuple) -> Any:
    """x (C, H, W, N), C-contiguous, with every entry of cols (C, kh, kw,
    OH, OW, N) added back onto the pixel it was read from."""
    if not takes(cols):
        return col2im_reference(cols, in_size, stride, pads, dilation)
    x = np.empty((cols.shape[0], *in_size, cols.shape[-1]), dtype=cols.dtype)
    col2im_kernel(cols, stride[0], stride[1], pads[0][0], pads[1][0], dilation[0], dilation[1], x)
    return x
