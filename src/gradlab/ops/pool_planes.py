"""Max and average pooling of 1-D and 2-D windows on the pooling kernels
(:mod:`gradlab.kernels.pool`), as pairs of ops that are each other's
backward (pool / unpool), so that every order of derivative is available.

The kernels see the input as planes (P, H, W, Q): (C, H, W, N) when the
batch axis is innermost in memory (a convolution's output, see
:mod:`gradlab.ops.conv`), else (N C, H, W, 1); a 1-D input has H = 1.
Results come back as views in the same layout.
"""

from __future__ import annotations

import numpy as np

from gradlab.autograd.node import Op
from gradlab.kernels.pool import (
    avg_pool_backward,
    avg_pool_forward,
    max_pool_backward,
    max_pool_forward,
    max_pool_gather,
)
from gradlab.tensor import Tensor

__all__ = ["avg_pool_planes", "max_pool_planes"]


def _to_planes(a, batch_inner: bool):
    """(N, C, *S) -> (P, H, W, Q) (a view where the layout allows)."""
    n, c, *spatial = a.shape
    if len(spatial) == 1:
        spatial = [1, *spatial]
    if batch_inner:
        return np.ascontiguousarray(a.transpose(1, *range(2, a.ndim), 0)).reshape(c, *spatial, n)
    return np.ascontiguousarray(a).reshape(n * c, *spatial, 1)


def _from_planes(p, batch_inner: bool, n: int, c: int, spatial: tuple):
    nd = len(spatial)
    if batch_inner:
        return p.reshape(c, *spatial, n).transpose(nd + 1, 0, *range(1, nd + 1))
    return p.reshape(n, c, *spatial)


def _batch_inner(a) -> bool:
    return a.ndim > 2 and a.transpose(1, *range(2, a.ndim), 0).flags.c_contiguous


def _geometry(kernel, stride, pads, dilation):
    if len(kernel) == 2:
        return kernel, stride, tuple(lo for lo, _ in pads), dilation
    return (1, *kernel), (1, *stride), (0, pads[0][0]), (1, *dilation)


class MaxPoolPlanes(Op):
    """x -> x read at the maximum of each window (``index``, found by
    :func:`max_pool_planes`, which also hands over the values as ``value``);
    backward is :class:`MaxUnpoolPlanes`."""

    reads_inputs = False
    value = None

    def forward(self, x):
        self.in_shape = x.shape
        if self.value is not None:
            y, self.value = self.value, None
        else:
            y = max_pool_gather(_to_planes(x, self.batch_inner), self.index)
        return _from_planes(y, self.batch_inner, x.shape[0], x.shape[1], self.sizes)

    def backward(self, g):
        return MaxUnpoolPlanes.apply(g, index=self.index, batch_inner=self.batch_inner,
                                     in_shape=self.in_shape, sizes=self.sizes)


class MaxUnpoolPlanes(Op):
    """g -> zeros of the input's shape with g added at each window's maximum;
    backward is :class:`MaxPoolPlanes`."""

    reads_inputs = False

    def forward(self, g):
        n, c, *spatial = self.in_shape
        in_size = (1, *spatial) if len(spatial) == 1 else tuple(spatial)
        gx = max_pool_backward(_to_planes(g, self.batch_inner), self.index, in_size)
        return _from_planes(gx, self.batch_inner, n, c, tuple(spatial))

    def backward(self, g):
        return MaxPoolPlanes.apply(g, index=self.index, batch_inner=self.batch_inner, sizes=self.sizes)


def max_pool_planes(x: Tensor, kernel, stride, pads, dilation, sizes) -> tuple[Tensor, Tensor]:
    """(max over windows, the flat index h W + w of each maximum in its
    (n, c) plane, as PyTorch's ``return_indices``)."""
    batch_inner = _batch_inner(x.array)
    kernel2, stride2, pads2, dilation2 = _geometry(kernel, stride, pads, dilation)
    y, index = max_pool_forward(_to_planes(x.array, batch_inner), kernel2, stride2, pads2, dilation2,
                                (1, *sizes) if len(sizes) == 1 else sizes)
    out = MaxPoolPlanes.apply(x, index=index, value=y, batch_inner=batch_inner, sizes=sizes)
    n, c = x.shape[:2]
    return out, Tensor._make(_from_planes(index, batch_inner, n, c, sizes))


class AvgPoolPlanes(Op):
    """x -> the window sums divided by ``divisor``; backward is :class:`AvgUnpoolPlanes`."""

    reads_inputs = False

    def forward(self, x):
        n, c = x.shape[:2]
        self.in_shape = x.shape
        self.batch_inner = _batch_inner(x)
        kernel, stride, pads, _ = _geometry(self.kernel, self.stride, self.pads, (1,) * len(self.kernel))
        y = avg_pool_forward(_to_planes(x, self.batch_inner), kernel, stride, pads, self.divisor)
        return _from_planes(y, self.batch_inner, n, c, self.sizes)

    def backward(self, g):
        return AvgUnpoolPlanes.apply(g, in_shape=self.in_shape, kernel=self.kernel, stride=self.stride,
                                     pads=self.pads, divisor=self.divisor, sizes=self.sizes)


class AvgUnpoolPlanes(Op):
    """g -> each window's share g / divisor added back onto its cells."""

    reads_inputs = False

    def forward(self, g):
        n, c, *spatial = self.in_shape
        self.batch_inner = _batch_inner(g)
        kernel, stride, pads, _ = _geometry(self.kernel, self.stride, self.pads, (1,) * len(self.kernel))
        in_size = (1, *spatial) if len(spatial) == 1 else tuple(spatial)
        gx = avg_pool_backward(_to_planes(g, self.batch_inner), kernel, stride, pads, self.divisor, in_size)
        return _from_planes(gx, self.batch_inner, n, c, tuple(spatial))

    def backward(self, g):
        return AvgPoolPlanes.apply(g, kernel=self.kernel, stride=self.stride, pads=self.pads,
                                   divisor=self.divisor, sizes=self.sizes)


def avg_pool_planes(x: Tensor, kernel, stride, pads, divisor, sizes) -> Tensor:
    """Window sums of ``x`` divided by ``divisor`` (one per output position)."""
    divisor = np.asarray(divisor, dtype=x.array.dtype).reshape((1, *sizes) if len(sizes) == 1 else sizes)
    return AvgPoolPlanes.apply(x, kernel=kernel, stride=stride, pads=pads, divisor=divisor, sizes=sizes)
