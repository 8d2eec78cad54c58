"""Max and average pooling over 2-D windows, forward and backward.

The arrays are (P, H, W, Q): the pooled plane (H, W) between an outer and
an inner batch axis, so that both the (N, C, H, W) layout (P = N C, Q = 1)
and the batch-innermost layout a convolution returns (P = C, Q = N) are
read in memory order. For output (oh, ow) the window covers the input rows
h = oh s_h - p_h + i r_h, i < k_h (and likewise columns); positions in the
padding are skipped.

    max:  y = max over the window,  index = h W + w of the maximum (the first
          one; a nan wins, as in PyTorch), dL/dx[index] += dL/dy
    avg:  y = (sum over the window) / d,  dL/dx[h, w] += dL/dy / d for each
          window reading (h, w); the divisors d (OH, OW) come from the caller
          (PyTorch's count_include_pad, ceil_mode and divisor_override rules)

1-D pooling is the case H = 1.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gradlab.backend import array_module
from gradlab.kernels._jit import cpu_kernel, prange
from gradlab.kernels._layout import takes

__all__ = [
    "avg_pool_backward", "avg_pool_backward_reference", "avg_pool_forward", "avg_pool_forward_reference",
    "max_pool_backward", "max_pool_backward_reference", "max_pool_forward", "max_pool_forward_reference",
    "max_pool_gather",
]


@cpu_kernel
def max_pool_forward_kernel(x, kh, kw, sh, sw, ph, pw, dh, dw, y, index):  # pragma: no cover
    """Max pooling of x (P, H, W, Q) into y and index (P, OH, OW, Q)."""
    planes, height, width, inner = x.shape
    _, out_h, out_w, _ = y.shape
    for job in prange(planes * out_h):
        p, oh = job // out_h, job % out_h
        h0 = oh * sh - ph
        for ow in range(out_w):
            w0 = ow * sw - pw
            first = -1
            for i in range(kh):
                for j in range(kw):
                    h, w = h0 + i * dh, w0 + j * dw
                    if first < 0 and 0 <= h < height and 0 <= w < width:
                        first = h * width + w
            for q in range(inner):
                y[p, oh, ow, q] = -math.inf
                index[p, oh, ow, q] = first
            for i in range(kh):
                h = h0 + i * dh
                if h < 0 or h >= height:
                    continue
                for j in range(kw):
                    w = w0 + j * dw
                    if w < 0 or w >= width:
                        continue
                    k = h * width + w
                    for q in range(inner):  # stores without a branch: one LLVM vectorizes
                        v, best = x[p, h, w, q], y[p, oh, ow, q]
                        take = v > best or v != v  # a nan wins
                        y[p, oh, ow, q] = v if take else best
                        index[p, oh, ow, q] = k if take else index[p, oh, ow, q]


@cpu_kernel
def max_pool_backward_kernel(g, index, gx):  # pragma: no cover - compiled
    """dL/dx as gx (P, H W, Q), the pooled plane flat so that the forward's
    index h W + w addresses it directly."""
    planes, cells, inner = gx.shape
    _, out_h, out_w, _ = g.shape
    for p in prange(planes):
        for k in range(cells):
            for q in range(inner):
                gx[p, k, q] = 0.0
        for oh in range(out_h):
            for ow in range(out_w):
                for q in range(inner):
                    gx[p, index[p, oh, ow, q], q] += g[p, oh, ow, q]


@cpu_kernel
def max_pool_gather_kernel(gx, index, g):  # pragma: no cover - compiled
    """g (P, OH, OW, Q) read from gx (P, H W, Q) at each window's maximum."""
    planes, out_h, out_w, inner = g.shape
    for job in prange(planes * out_h):
        p, oh = job // out_h, job % out_h
        for ow in range(out_w):
            for q in range(inner):
                g[p, oh, ow, q] = gx[p, index[p, oh, ow, q], q]


@cpu_kernel
def avg_pool_forward_kernel(x, kh, kw, sh, sw, ph, pw, divisor, y):
    planes, height, width, inner = x.shape
    _, out_h, out_w, _ = y.shape
    for job in prange(planes * out_h):
        p, oh = job // out_h, job % out_h
        for ow in range(out_w):
            for q in range(inner):
                y[p, oh, ow, q] = 0.0
            for i in range(kh):
                h = oh * sh - ph + i
                if h < 0 or h >= height:
                    continue
                for j in range(kw):
                    w = ow * sw - pw + j
                    if 0 <= w < width:
                        for q in range(inner):
                            y[p, oh, ow, q] += x[p, h, w, q]
            for q in range(inner):
                y[p, oh, ow, q] /= divisor[oh, ow]


@cpu_kernel
def avg_pool_backward_kernel(g, kh, kw, sh, sw, ph, pw, divisor, gx):
    planes, height, width, inner = gx.shape
    _, out_h, out_w, _ = g.shape
    for p in prange(planes):
        for h in range(height):
            for w in range(width):
                for q in range(inner):
                    gx[p, h, w, q] = 0.0
        for oh in range(out_h):
            for ow in range(out_w):
                for i in range(kh):
                    h = oh * sh - ph + i
                    if h < 0 or h >= height:
                        continue
                    for j in range(kw):
                        w = ow * sw - pw + j
                        if 0 <= w < width:
                            for q in range(inner):
                                gx[p, h, w, q] += g[p, oh, ow, q] / divisor[oh, ow]


def _positions(out_size: tuple, kernel: tuple, stride: tuple, pads: tuple, dilation: tuple, i: int,
               j: int, height: int, width: int) -> tuple:
    xp = np
    h = xp.arange(out_size[0]) * stride[0] - pads[0] + i * dilation[0]
    w = xp.arange(out_size[1]) * stride[1] - pads[1] + j * dilation[1]
    inside = ((h >= 0) & (h < height))[:, None] & ((w >= 0) & (w < width))[None, :]
    return h.clip(0, height - 1), w.clip(0, width - 1), inside


def max_pool_forward_reference(x: Any, kernel: tuple, stride: tuple, pads: tuple, dilation: tuple,
                               out_size: tuple) -> tuple[Any, Any]:
    """(y, index) of max pooling x (P, H, W, Q), in NumPy (``pads`` one per axis)."""
    xp = array_module(x)
    _, height, width, _ = x.shape
    y = index = None
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            h, w, inside = _positions(out_size, kernel, stride, pads, dilation, i, j, height, width)
            v = xp.where(inside[None, :, :, None], x[:, h][:, :, w], -xp.inf)
            k = xp.broadcast_to((h[:, None] * width + w[None, :])[None, :, :, None], v.shape)
            if y is None:
                y, index = v, k.copy()
            else:
                take = v > y
                y, index = xp.where(take, v, y), xp.where(take, k, index)
    return y.astype(x.dtype), index


def max_pool_forward(x: Any, kernel: tuple, stride: tuple, pads: tuple, dilation: tuple,
                     out_size: tuple) -> tuple[Any, Any]:
    """(y (P, OH, OW, Q), index (P, OH, OW, Q) int64: h W + w of each maximum)."""
    if not takes(x):
        return max_pool_forward_reference(x, kernel, stride, pads, dilation, out_size)
    shape = (x.shape[0], *out_size, x.shape[3])
    y, index = np.empty(shape, dtype=x.dtype), np.empty(shape, dtype=np.int64)
    max_pool_forward_kernel(x, *kernel, *stride, *pads, *dilation, y, index)
    return y, index


def max_pool_backward_reference(g: Any, index: Any, in_size: tuple) -> Any:
    """dL/dx (P, H, W, Q): g added at each window's maximum, in NumPy."""
    xp = array_module(g)
    planes, _, _, inner = g.shape
    gx = xp.zeros((planes, in_size[0] * in_size[1], inner), dtype=g.dtype)
    p = xp.arange(planes)[:, None, None, None]
    q = xp.arange(inner)[None, None, None, :]
    np.add.at(gx, (p, index, q), g) if xp is np else xp.add.at(gx, (p, index, q), g)
    return gx.reshape(planes, *in_size, inner)


def max_pool_backward(g: Any, index: Any, in_size: tuple) -> Any:
    """dL/dx (P, H, W, Q) from dL/dy (P, OH, OW, Q) and the forward's index."""
    if not takes(g):
        return max_pool_backward_reference(g, index, in_size)
    gx = np.empty((g.shape[0], in_size[0] * in_size[1], g.shape[3]), dtype=g.dtype)
    max_pool_backward_kernel(g, index, gx)
    return gx.reshape(g.shape[0], *in_size, g.shape[3])


def max_pool_gather(gx: Any, index: Any) -> Any:
    """gx (P, H, W, Q) read at each window's maximum: the adjoint of
    :func:`max_pool_backward` (its derivative)."""
    if not takes(gx):
        planes, height, width, inner = gx.shape
        flat = gx.reshape(planes, height * width, inner)
        p = array_module(gx).arange(planes)[:, None, None, None]
        q = array_module(gx).arange(inner)[None, None, None, :]
        return flat[p, index, q]
    g = np.empty(index.shape, dtype=gx.dtype)
    planes, height, width, inner = gx.shape
    max_pool_gather_kernel(np.ascontiguousarray(gx).reshape(planes, height * width, inner), index, g)
    return g


def avg_pool_forward_reference(x: Any, kernel: tuple, stride: tuple, pads: tuple, divisor: Any) -> Any:
    """y (P, OH, OW, Q) of average pooling, in NumPy."""
    xp = array_module(x)
    _, height, width, _ = x.shape
    total = 0.0
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            h, w, inside = _positions(divisor.shape, kernel, stride, pads, (1, 1), i, j, height, width)
            total = total + xp.where(inside[None, :, :, None], x[:, h][:, :, w], 0.0)
    return (total / divisor[None, :, :, None]).astype(x.dtype)


def avg_pool_forward(x: Any, kernel: tuple, stride: tuple, pads: tuple, divisor: Any) -> Any:
    """y (P, OH, OW, Q) = window sums of x (P, H, W, Q) / ``divisor`` (OH, OW)."""
    if not takes(x, divisor):
        return avg_pool_forward_reference(x, kernel, stride, pads, divisor)
    y = np.empty((x.shape[0], *divisor.shape, x.shape[3]), dtype=x.dtype)
    avg_pool_forward_kernel(x, *kernel, *stride, *pads, divisor, y)
    return y


def avg_pool_backward_reference(g: Any, kernel: tuple, stride: tuple, pads: tuple, divisor: Any,
                                in_size: tuple) -> Any:
    """dL/dx (P, H, W, Q) of average pooling, in NumPy."""
    xp = array_module(g)
    planes, _, _, inner = g.shape
    gx = xp.zeros((planes, *in_size, inner), dtype=g.dtype)
    share = g / divisor[None, :, :, None]
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            h, w, inside = _positions(divisor.shape, kernel, stride, pads, (1, 1), i, j, *in_size)
            hh, ww = xp.meshgrid(h, w, indexing="ij")
            np.add.at(gx, (slice(None), hh[inside], ww[inside]), share[:, inside])
    return gx


def avg_pool_backward(g: Any, kernel: tuple, stride: tuple, pads: tuple, divisor: Any,
                      in_size: tuple) -> Any:
    """dL/dx (P, H, W, Q) from dL/dy (P, OH, OW, Q): each window's share
    dL/dy / d added back onto its cells."""
    if not takes(g, divisor):
        return avg_pool_backward_reference(g, kernel, stride, pads, divisor, in_size)
    gx = np.empty((g.shape[0], *in_size, g.shape[3]), dtype=g.dtype)
    avg_pool_backward_kernel(g, *kernel, *stride, *pads, divisor, gx)
    return gx
