"""Softmax cross-entropy of (N, C) logits against class indices, fused.

For sample n with logits x_n, target y_n, class weights w and label
smoothing eps (Szegedy et al. 2016, with PyTorch's weighting), the target
distribution, scaled by the weights, is

    A_nc = (1 - eps) w_y [c = y_n] + eps / C w_c        (0 for an ignored sample)

and, with log p_nc = x_nc - logsumexp(x_n),

    loss_n = -sum_c A_nc log p_nc
           = (1 - eps) w_y (lse_n - x_ny) + eps / C sum_c w_c (lse_n - x_nc)
    d loss_n / d x_nc = (sum_c' A_nc') p_nc - A_nc.

The forward keeps lse_n (the log-sum-exp, from the running maximum) for the
backward, which recomputes p from it: one pass over the logits each way.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gradlab.backend import array_module
from gradlab.kernels._jit import cpu_kernel, prange
from gradlab.kernels._layout import takes

__all__ = [
    "softmax_ce_backward", "softmax_ce_backward_reference", "softmax_ce_forward",
    "softmax_ce_forward_reference", "target_distribution", "target_weights",
]


@cpu_kernel
def softmax_ce_forward_kernel(x, target, weight, ignore_index, eps, loss, lse):
    n, c = x.shape
    for i in prange(n):
        top = x[i, 0]
        for j in range(1, c):
            if x[i, j] > top:
                top = x[i, j]
        total = 0.0
        for j in range(c):
            total += math.exp(x[i, j] - top)
        lse[i] = top + math.log(total)
        y = target[i]
        if y == ignore_index:
            loss[i] = 0.0
            continue
        value = (1.0 - eps) * weight[y] * (lse[i] - x[i, y])
        if eps != 0.0:
            spread = 0.0
            for j in range(c):
                spread += weight[j] * (lse[i] - x[i, j])
            value += eps / c * spread
        loss[i] = value


@cpu_kernel
def softmax_ce_backward_kernel(x, target, weight, ignore_index, eps, lse, scale, gx):
    n, c = x.shape
    weight_sum = 0.0
    for j in range(c):
        weight_sum += weight[j]
    for i in prange(n):
        y = target[i]
        if y == ignore_index:
            for j in range(c):
                gx[i, j] = 0.0
            continue
        total = (1.0 - eps) * weight[y] + eps / c * weight_sum  # sum_c A_nc
        for j in range(c):
            a = eps / c * weight[j]
            if j == y:
                a += (1.0 - eps) * weight[y]
            gx[i, j] = scale[i] * (total * math.exp(x[i, j] - lse[i]) - a)


def target_weights(target: Any, weight: Any, ignore_index: int) -> Any:
    """w[y_n] per sample, 0 where the target is ``ignore_index``."""
    xp = array_module(weight)
    keep = target != ignore_index
    return xp.where(keep, weight[xp.where(keep, target, 0)], 0.0).astype(weight.dtype, copy=False)


def target_distribution(x: Any, target: Any, weight: Any, ignore_index: int, eps: float) -> Any:
    """A (N, C) of the module docstring, in x's dtype."""
    xp = array_module(x)
    n, c = x.shape
    keep = (target != ignore_index)[:, None]
    onehot = target[:, None] == xp.arange(c)
    a = (1.0 - eps) * onehot * target_weights(target, weight, ignore_index)[:, None] + eps / c * weight
    return (a * keep).astype(x.dtype, copy=False)


def softmax_ce_forward_reference(x: Any, target: Any, weight: Any, ignore_index: int, eps: float) -> tuple:
    """(loss (N,), lse (N,)) in NumPy."""
    xp = array_module(x)
    top = x.max(axis=1, keepdims=True)
    lse = top + xp.log(xp.exp(x - top).sum(axis=1, keepdims=True))
    loss = (target_distribution(x, target, weight, ignore_index, eps) * (lse - x)).sum(axis=1)
    return loss.astype(x.dtype, copy=False), lse[:, 0]


def softmax_ce_forward(x: Any, target: Any, weight: Any, ignore_index: int, eps: float) -> tuple[Any, Any]:
    """Per-sample losses (N,) of logits ``x`` (N, C) against class indices
    ``target`` (N,) with class weights ``weight`` (C,), and each row's
    log-sum-exp (N,) for the backward. Targets must be valid class indices
    or ``ignore_index`` (the caller checks)."""
    if not takes(x, weight):
        return softmax_ce_forward_reference(x, target, weight, ignore_index, eps)
    x = np.ascontiguousarray(x)
    loss = np.empty(x.shape[0], dtype=x.dtype)
    lse = np.empty(x.shape[0], dtype=x.dtype)
    softmax_ce_forward_kernel(x, np.ascontiguousarray(target, dtype=np.int64), weight,
                              ignore_index, eps, loss, lse)
    return loss, lse


def softmax_ce_backward_reference(x: Any, target: Any, weight: Any, ignore_index: int, eps: float,
                                  lse: Any, scale: Any) -> Any:
    """dL/dx (N, C) in NumPy, for dL/dloss_n = ``scale`` (N,)."""
    xp = array_module(x)
    a = target_distribution(x, target, weight, ignore_index, eps)
    p = xp.exp(x - lse[:, None])
    return (scale[:, None] * (a.sum(axis=1, keepdims=True) * p - a)).astype(x.dtype, copy=False)


def softmax_ce_backward(x: Any, target: Any, weight: Any, ignore_index: int, eps: float,
                        lse: Any, scale: Any) -> Any:
    """dL/dx (N, C) for dL/dloss_n = ``scale`` (N,), from the forward's lse."""
    if not takes(x, weight, lse, scale):
        return softmax_ce_backward_reference(x, target, weight, ignore_index, eps, lse, scale)
    x = np.ascontiguousarray(x)
    gx = np.empty_like(x)
    softmax_ce_backward_kernel(x, np.ascontiguousarray(target, dtype=np.int64), weight, ignore_index,
                               eps, lse, np.ascontiguousarray(scale), gx)
    return gx
