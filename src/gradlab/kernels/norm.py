"""Batch normalization and layer normalization, forward and backward.

Both normalize rows of a 2-D array: batch norm the (C, M) rows holding
each channel's M values (the caller lays the (N, C, *S) input out so, see
:func:`gradlab.nn.functional.norm.channel_rows`), layer norm the (M, D)
rows holding each sample's D normalized values. For a row x of n values

    mu = mean(x),  var = mean((x - mu)^2)  (biased),  xhat = (x - mu) / sqrt(var + eps)
    y = gamma xhat + beta

(Ioffe and Szegedy 2015; Ba et al. 2016), and with g = dL/dy

    dx = 1 / sqrt(var + eps) (g' - mean(g') - xhat mean(g' xhat)),  g' = gamma g
    dgamma = sum g xhat,   dbeta = sum g

where batch norm has one gamma per row (g' = gamma g: the factor moves out)
and layer norm one per column. The statistics are summed in float64 even
for float32 data, two passes (mean, then squared deviations) so that large
means do not cancel the variance, in SIMD partial sums (``sums=True``:
reassociated, see :mod:`gradlab.kernels._jit`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gradlab.backend import array_module
from gradlab.kernels._jit import cpu_kernel, prange
from gradlab.kernels._layout import takes

__all__ = [
    "batch_norm_backward", "batch_norm_backward_reference", "batch_norm_forward",
    "batch_norm_forward_reference", "layer_norm_backward", "layer_norm_backward_reference",
    "layer_norm_forward", "layer_norm_forward_reference",
]


@cpu_kernel(sums=True)
def batch_norm_forward_kernel(x, weight, bias, eps, y, mean, var):
    channels, m = x.shape
    for c in prange(channels):
        total = 0.0
        for j in range(m):
            total += x[c, j]
        mu = total / m
        squares = 0.0
        for j in range(m):
            d = x[c, j] - mu
            squares += d * d
        mean[c] = mu
        var[c] = squares / m
        a = weight[c] / math.sqrt(squares / m + eps)
        for j in range(m):
            y[c, j] = (x[c, j] - mu) * a + bias[c]


@cpu_kernel(sums=True)
def batch_norm_backward_kernel(g, x, mean, invstd, weight, gx, gweight, gbias):
    channels, m = x.shape
    for c in prange(channels):
        sum_g = 0.0
        sum_gx = 0.0
        for j in range(m):
            sum_g += g[c, j]
            sum_gx += g[c, j] * (x[c, j] - mean[c])
        sum_gx *= invstd[c]
        gbias[c] = sum_g
        gweight[c] = sum_gx
        scale = invstd[c] * weight[c]
        for j in range(m):
            xhat = (x[c, j] - mean[c]) * invstd[c]
            gx[c, j] = scale * (g[c, j] - sum_g / m - xhat * sum_gx / m)


@cpu_kernel(sums=True)
def layer_norm_forward_kernel(x, weight, bias, eps, y, mean, invstd):
    rows, d = x.shape
    for r in prange(rows):
        total = 0.0
        for j in range(d):
            total += x[r, j]
        mu = total / d
        squares = 0.0
        for j in range(d):
            dev = x[r, j] - mu
            squares += dev * dev
        inv = 1.0 / math.sqrt(squares / d + eps)
        mean[r] = mu
        invstd[r] = inv
        for j in range(d):
            y[r, j] = (x[r, j] - mu) * inv * weight[j] + bias[j]


@cpu_kernel(sums=True)
def layer_norm_input_grad_kernel(g, x, mean, invstd, weight, gx):
    rows, d = x.shape
    for r in prange(rows):
        sum_g = 0.0
        sum_gx = 0.0
        for j in range(d):
            gw = g[r, j] * weight[j]
            sum_g += gw
            sum_gx += gw * (x[r, j] - mean[r]) * invstd[r]
        for j in range(d):
            xhat = (x[r, j] - mean[r]) * invstd[r]
            gx[r, j] = invstd[r] * (g[r, j] * weight[j] - sum_g / d - xhat * sum_gx / d)


@cpu_kernel(sums=True)
def layer_norm_param_grad_kernel(g, x, mean, invstd, gweight, gbias):
    rows, d = x.shape
    for j in prange(d):
        sum_g = 0.0
        sum_gx = 0.0
        for r in range(rows):
            sum_g += g[r, j]
            sum_gx += g[r, j] * (x[r, j] - mean[r]) * invstd[r]
        gweight[j] = sum_gx
        gbias[j] = sum_g


def _stats_reference(x: Any, axis: int) -> tuple[Any, Any]:
    mean = x.mean(axis=axis, keepdims=True, dtype="float64")
    var = ((x - mean) ** 2).mean(axis=axis, keepdims=True)
    return mean, var


def batch_norm_forward_reference(x: Any, weight: Any, bias: Any, eps: float) -> tuple:
    """(y, mean, var) of rows ``x`` (C, M); ``weight`` and ``bias`` have C entries."""
    mean, var = _stats_reference(x, 1)
    y = (x - mean) / np.sqrt(var + eps) * weight[:, None] + bias[:, None]
    return y.astype(x.dtype, copy=False), mean[:, 0], var[:, 0]


def batch_norm_forward(x: Any, weight: Any, bias: Any, eps: float) -> tuple[Any, Any, Any]:
    """Batch norm of the rows ``x`` (C, M): (y (C, M), mean (C,), var (C,)),
    the statistics float64, the variance biased."""
    if not takes(x, weight, bias):
        return batch_norm_forward_reference(x, weight, bias, eps)
    x = np.ascontiguousarray(x)
    y = np.empty_like(x)
    mean = np.empty(x.shape[0])
    var = np.empty(x.shape[0])
    batch_norm_forward_kernel(x, weight, bias, eps, y, mean, var)
    return y, mean, var


def batch_norm_backward_reference(g: Any, x: Any, mean: Any, invstd: Any, weight: Any) -> tuple:
    """(dx, dgamma, dbeta) of batch norm on rows (C, M)."""
    m = x.shape[1]
    xhat = (x - mean[:, None]) * invstd[:, None]
    gb = g.sum(axis=1, dtype="float64")
    gw = (g * xhat).sum(axis=1)
    gx = (invstd * weight)[:, None] * (g - gb[:, None] / m - xhat * gw[:, None] / m)
    return gx.astype(x.dtype, copy=False), gw.astype(x.dtype), gb.astype(x.dtype)


def batch_norm_backward(g: Any, x: Any, mean: Any, invstd: Any, weight: Any) -> tuple[Any, Any, Any]:
    """(dx (C, M), dgamma (C,), dbeta (C,)) from the rows g and x and the
    forward's float64 ``mean`` and ``invstd`` = 1 / sqrt(var + eps)."""
    if not takes(x, g, weight):
        return batch_norm_backward_reference(g, x, mean, invstd, weight)
    x, g = np.ascontiguousarray(x), np.ascontiguousarray(g)
    gx = np.empty_like(x)
    gw = np.empty(x.shape[0], dtype=x.dtype)
    gb = np.empty(x.shape[0], dtype=x.dtype)
    batch_norm_backward_kernel(g, x, mean, invstd, weight, gx, gw, gb)
    return gx, gw, gb


def layer_norm_forward_reference(x: Any, weight: Any, bias: Any, eps: float) -> tuple:
    """(y, mean, invstd) of layer norm over the rows of ``x`` (M, D)."""
    xp = array_module(x)
    mean, var = _stats_reference(x, 1)
    invstd = 1.0 / xp.sqrt(var + eps)
    y = (x - mean) * invstd * weight + bias
    return y.astype(x.dtype, copy=False), mean[:, 0], invstd[:, 0]


def layer_norm_forward(x: Any, weight: Any, bias: Any, eps: float) -> tuple[Any, Any, Any]:
    """Layer norm of the rows of ``x`` (M, D): (y (M, D), mean (M,),
    invstd (M,)), the statistics float64."""
    if not takes(x, weight, bias):
        return layer_norm_forward_reference(x, weight, bias, eps)
    x = np.ascontiguousarray(x)
    y = np.empty_like(x)
    mean = np.empty(x.shape[0])
    invstd = np.empty(x.shape[0])
    layer_norm_forward_kernel(x, weight, bias, eps, y, mean, invstd)
    return y, mean, invstd


def layer_norm_backward_reference(g: Any, x: Any, mean: Any, invstd: Any, weight: Any) -> tuple:
    """(dx, dgamma, dbeta) of layer norm on rows (M, D)."""
    d = x.shape[1]
    xhat = (x - mean[:, None]) * invstd[:, None]
    gw = g * weight
    gx = invstd[:, None] * (gw - gw.sum(axis=1, keepdims=True) / d
                            - xhat * (gw * xhat).sum(axis=1, keepdims=True) / d)
    return (gx.astype(x.dtype, copy=False), (g * xhat).sum(axis=0).astype(x.dtype),
            g.sum(axis=0).astype(x.dtype))


def layer_norm_backward(g: Any, x: Any, mean: Any, invstd: Any, weight: Any) -> tuple[Any, Any, Any]:
    """(dx (M, D), dgamma (D,), dbeta (D,)) of layer norm on rows."""
    if not takes(x, g, weight):
        return layer_norm_backward_reference(g, x, mean, invstd, weight)
    x, g = np.ascontiguousarray(x), np.ascontiguousarray(g)
    gx = np.empty_like(x)
    gw = np.empty(x.shape[1], dtype=x.dtype)
    gb = np.empty(x.shape[1], dtype=x.dtype)
    layer_norm_input_grad_kernel(g, x, mean, invstd, weight, gx)
    layer_norm_param_grad_kernel(g, x, mean, invstd, gw, gb)
    return gx, gw, gb
