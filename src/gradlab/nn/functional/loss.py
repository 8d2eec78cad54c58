"""Loss functions, as ``torch.nn.functional``'s, composed from engine ops.

Every loss takes ``reduction``: ``"mean"`` (the default), ``"sum"`` or
``"none"`` (one value per element or sample).
"""

from __future__ import annotations

from typing import Any

from gradlab import backend, ops
from gradlab.autograd import is_grad_enabled
from gradlab.autograd.node import Op
from gradlab.kernels.softmax_ce import (
    softmax_ce_backward,
    softmax_ce_forward,
    target_distribution,
    target_weights,
)
from gradlab.tensor import Tensor

__all__ = [
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "huber_loss",
    "l1_loss", "mse_loss", "multi_margin_loss", "nll_loss", "smooth_l1_loss",
]

_REDUCTIONS = ("none", "mean", "sum")


def _check_reduction(reduction: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be 'none', 'mean' or 'sum', got {reduction!r}")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    _check_reduction(reduction)
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _same_shape(input: Tensor, target: Tensor, name: str) -> None:  # noqa: A002
    if tuple(input.shape) != tuple(target.shape):
        raise ValueError(
            f"{name}: target size {tuple(target.shape)} must be the same as input size "
            f"{tuple(input.shape)}"
        )


def _as_tensor(value: Any, like: Tensor) -> Tensor:
    if isinstance(value, Tensor):
        return value
    xp = backend.array_module(like.array)
    return Tensor._make(xp.asarray(value, dtype=like.dtype))


def mse_loss(input: Tensor, target: Tensor, *, reduction: str = "mean") -> Tensor:  # noqa: A002
    """(x - y)^2, reduced."""
    target = _as_tensor(target, input)
    _same_shape(input, target, "mse_loss")
    d = input - target
    return _reduce(d * d, reduction)


def l1_loss(input: Tensor, target: Tensor, *, reduction: str = "mean") -> Tensor:  # noqa: A002
    """|x - y|, reduced."""
    target = _as_tensor(target, input)
    _same_shape(input, target, "l1_loss")
    return _reduce(ops.abs(input - target), reduction)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean",  # noqa: A002
               delta: float = 1.0) -> Tensor:
    """0.5 d^2 where |d| < delta, delta (|d| - delta / 2) elsewhere, d = x - y
    (Huber 1964): quadratic near zero, linear in the tails."""
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    target = _as_tensor(target, input)
    _same_shape(input, target, "huber_loss")
    d = input - target
    a = ops.abs(d)
    loss = ops.where(a < delta, 0.5 * d * d, delta * (a - 0.5 * delta))
    return _reduce(loss, reduction)


def smooth_l1_loss(input: Tensor, target: Tensor, *, reduction: str = "mean",  # noqa: A002
                   beta: float = 1.0) -> Tensor:
    """Huber loss divided by ``beta`` (Girshick 2015)."""
    if beta == 0:
        return l1_loss(input, target, reduction=reduction)
    return huber_loss(input, target, reduction, beta) / beta


def _class_mask(target: Any, n_classes: int, dtype: Any, class_dim: int, ndim: int, xp: Any) -> Any:
    """One-hot array of the class indices, with the class axis at ``class_dim``."""
    eye = (target[..., None] == xp.arange(n_classes)).astype(dtype)
    return xp.moveaxis(eye, -1, class_dim) if ndim > 1 else eye


def _check_target(input: Tensor, target: Tensor, name: str) -> tuple[int, int]:  # noqa: A002
    if target.array.dtype.kind not in "iu":
        raise RuntimeError(f"{name}: expected target of integer dtype (class indices), got {target.dtype}")
    class_dim = 0 if input.ndim == 1 else 1
    expected = input.shape[:class_dim] + input.shape[class_dim + 1:]
    if tuple(target.shape) != tuple(expected):
        raise ValueError(
            f"{name}: expected target of shape {tuple(expected)} for input of shape "
            f"{tuple(input.shape)}, got {tuple(target.shape)}"
        )
    return class_dim, input.shape[class_dim]


def _targets(input: Tensor, target: Tensor, weight: Tensor | None, ignore_index: int,  # noqa: A002
             name: str) -> tuple:
    """(one-hot array of the targets along the class axis, w[target] zeroed
    where ignored, class_dim) after checking the target."""
    class_dim, n_classes = _check_target(input, target, name)
    xp = backend.array_module(input.array)
    t = target.array
    keep = t != ignore_index
    bad = keep & ((t < 0) | (t >= n_classes))
    if bad.any():
        raise IndexError(f"{name}: target {int(t[bad].reshape(-1)[0])} is out of bounds for "
                         f"{n_classes} classes")
    safe = xp.where(keep, t, 0)
    mask = _class_mask(safe, n_classes, input.dtype, class_dim, input.ndim, xp)
    if weight is not None:
        if weight.ndim != 1 or weight.shape[0] != n_classes:
            raise RuntimeError(f"{name}: weight must be a 1-D tensor of {n_classes} elements, "
                               f"got shape {tuple(weight.shape)}")
        w = xp.asarray(weight.array[safe] * keep, dtype=input.dtype)
    else:
        w = keep.astype(input.dtype)
    return mask, w, class_dim


def _weights_and_picked(input: Tensor, target: Tensor, weight: Tensor | None,  # noqa: A002
                        ignore_index: int, name: str) -> tuple[Tensor, Tensor]:
    """(x[target] picked along the class axis, w[target] zeroed where ignored)."""
    mask, w, class_dim = _targets(input, target, weight, ignore_index, name)
    return (input * Tensor._make(mask)).sum(class_dim), Tensor._make(w)


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,  # noqa: A002
             *, ignore_index: int = -100, reduction: str = "mean") -> Tensor:
    """-w[y] x[y] per sample, for log-probabilities x of shape (N, C, ...) or
    (C,) and class indices y. The mean divides by the sum of the weights of
    the samples that are not ignored."""
    _check_reduction(reduction)
    picked, w = _weights_and_picked(input, target, weight, ignore_index, "nll_loss")
    loss = -(picked * w)
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / w.sum()


class SoftmaxCrossEntropy(Op):
    """Cross-entropy of (N, C) logits against class indices, fused: the
    kernels of :mod:`gradlab.kernels.softmax_ce` (its docstring has the
    formula, with class weights, ignore_index and label smoothing). The mean
    divides by the sum of the weights of the samples that are not ignored.
    Fused because the composed form costs ten to twenty graph nodes, as much
    time as a small network's layers. When the backward is recorded it is
    built from the differentiable ``softmax``, so it can be differentiated
    again.
    """

    def forward(self, x):
        loss, self.lse = softmax_ce_forward(x, self.target, self.weight, self.ignore_index, self.eps)
        if self.reduction == "none":
            return loss
        total = loss.sum()
        return total / self.denom if self.reduction == "mean" else total

    def backward(self, g):
        (x,) = self.inputs
        if self.reduction == "mean":
            g = g / self.denom
        if is_grad_enabled():
            coef = Tensor._make(target_distribution(x.array, self.target, self.weight, self.ignore_index,
                                                    self.eps))
            scale = g.unsqueeze(1) if g.ndim else g
            return (ops.softmax(x, 1) * coef.sum(1, keepdim=True) - coef) * scale
        xp = backend.array_module(g.array)
        scale = xp.ascontiguousarray(xp.broadcast_to(g.array, (x.shape[0],)))
        return Tensor._make(softmax_ce_backward(x.array, self.target, self.weight, self.ignore_index,
                                                self.eps, self.lse, scale))


def _class_weights(input: Tensor, target: Tensor, weight: Tensor | None, ignore_index: int,  # noqa: A002
                   name: str) -> Any:
    """The class weights (C,) in the input's dtype (ones without ``weight``),
    after checking the targets and the weight."""
    _, n_classes = _check_target(input, target, name)
    xp = backend.array_module(input.array)
    t = target.array
    bad = (t != ignore_index) & ((t < 0) | (t >= n_classes))
    if bad.any():
        raise IndexError(f"{name}: target {int(t[bad].reshape(-1)[0])} is out of bounds for "
                         f"{n_classes} classes")
    if weight is None:
        return xp.ones(n_classes, dtype=input.dtype)
    if weight.ndim != 1 or weight.shape[0] != n_classes:
        raise RuntimeError(f"{name}: weight must be a 1-D tensor of {n_classes} elements, "
                           f"got shape {tuple(weight.shape)}")
    return xp.asarray(weight.array, dtype=input.dtype)


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,  # noqa: A002
                  *, ignore_index: int = -100, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Cross-entropy between softmax(input) along the class axis and the
    target: class indices (integer, shape (N, ...)) or class probabilities
    (float, the input's shape).

    With indices, loss = -w[y] log p_y (mean: divided by sum of w[y]); with
    probabilities, loss = -sum_c w_c q_c log p_c (mean: divided by N).
    Label smoothing (Szegedy et al. 2016) mixes the target with the uniform
    distribution: q = (1 - eps) q + eps / C; with indices PyTorch computes
    (1 - eps) nll + eps / C * sum_c (-w_c log p_c), which is the same thing.
    log p comes from log_softmax, so logits of any size are stable.
    """
    _check_reduction(reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must be between 0.0 and 1.0, got {label_smoothing}")
    if input.ndim == 0:
        raise RuntimeError("cross_entropy: input must have a class dimension, got a 0-d tensor")
    class_dim = 0 if input.ndim == 1 else 1
    n_classes = input.shape[class_dim]
    if input.ndim == 2 and target.array.dtype.kind != "f":
        w = _class_weights(input, target, weight, ignore_index, "cross_entropy")
        denom = float(target_weights(target.array, w, ignore_index).sum())
        return SoftmaxCrossEntropy.apply(input, target=target.array, weight=w, ignore_index=ignore_index,
                                         eps=float(label_smoothing), denom=denom, reduction=reduction)
    logp = ops.log_softmax(input, class_dim)
    wshape = (n_classes,) + (1,) * (input.ndim - class_dim - 1)
    if target.array.dtype.kind == "f":
        _same_shape(input, target, "cross_entropy (class probabilities)")
        q = target if label_smoothing == 0 else target * (1 - label_smoothing) + label_smoothing / n_classes
        terms = logp * q
        if weight is not None:
            terms = terms * weight.reshape(wshape)
        loss = -terms.sum(class_dim)
        if reduction == "mean":
            return loss.sum() / max(loss.array.size, 1) if input.ndim > 1 else loss
        return _reduce(loss, reduction)
    nll = nll_loss(logp, target, weight, ignore_index=ignore_index, reduction=reduction)
    if label_smoothing == 0:
        return nll
    keep = Tensor._make((target.array != ignore_index).astype(input.dtype))
    terms = logp if weight is None else logp * weight.reshape(wshape)
    smooth = -terms.sum(class_dim) * keep
    if reduction == "none":
        ret = smooth
    elif reduction == "sum":
        ret = smooth.sum()
    else:
        _, w, _ = _targets(input, target, weight, ignore_index, "cross_entropy")
        ret = smooth.sum() / float(w.sum())
    return (1 - label_smoothing) * nll + ret * (label_smoothing / n_classes)


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,  # noqa: A002
                         *, reduction: str = "mean") -> Tensor:
    """-(y log x + (1 - y) log(1 - x)) for probabilities x, with each log
    clamped at -100 as PyTorch does (so x = 0 or 1 gives a finite loss)."""
    target = _as_tensor(target, input)
    _same_shape(input, target, "binary_cross_entropy")
    data = input.array
    if data.size and (data.min() < 0 or data.max() > 1):
        raise RuntimeError("binary_cross_entropy: all elements of input should be between 0 and 1")
    log_x = ops.clamp(ops.log(input), min=-100.0)
    log_1mx = ops.clamp(ops.log(1.0 - input), min=-100.0)
    loss = -(target * log_x + (1.0 - target) * log_1mx)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor,  # noqa: A002
                                     weight: Tensor | None = None, *, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """Binary cross-entropy of sigmoid(x), computed from the logits x:

        loss = (1 - y) x + (1 + (pw - 1) y) log(1 + e^-x)

    with log(1 + e^-x) = m + log(e^-m + e^(-x-m)), m = max(-x, 0), which
    neither overflows nor loses precision at large |x| (PyTorch's form).
    ``pos_weight`` weights the positive term (per class, broadcast over the
    last dimension)."""
    target = _as_tensor(target, input)
    _same_shape(input, target, "binary_cross_entropy_with_logits")
    m = ops.relu(-input)
    softplus_neg = m + ops.log(ops.exp(-m) + ops.exp(-input - m))
    if pos_weight is not None:
        softplus_neg = (1.0 + (pos_weight - 1.0) * target) * softplus_neg
    loss = (1.0 - target) * input + softplus_neg
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1, margin: float = 1.0,  # noqa: A002
                      weight: Tensor | None = None, *, reduction: str = "mean") -> Tensor:
    """The multiclass hinge loss (Weston and Watkins 1999; Crammer-Singer
    form without the max, as PyTorch's):

        loss(x, y) = sum_{i != y} w_y max(0, margin - x_y + x_i)^p / C
    """
    if p not in (1, 2):
        raise ValueError(f"multi_margin_loss: only p == 1 and p == 2 are supported, got {p}")
    if input.ndim not in (1, 2):
        raise ValueError(f"multi_margin_loss: expected a 1-D or 2-D input, got shape {tuple(input.shape)}")
    class_dim, n_classes = _check_target(input, target, "multi_margin_loss")
    xp = backend.array_module(input.array)
    t = target.array
    if t.size and (t.min() < 0 or t.max() >= n_classes):
        raise IndexError(f"multi_margin_loss: target out of range for {n_classes} classes")
    mask = _class_mask(t, n_classes, input.dtype, class_dim, input.ndim, xp)
    picked = (input * Tensor._make(mask)).sum(class_dim, keepdim=True)
    hinge = ops.relu(margin - picked + input) * Tensor._make(1.0 - mask)
    if p == 2:
        hinge = hinge * hinge
    if weight is not None:
        w_y = Tensor._make(xp.asarray(weight.array[t], dtype=input.dtype))  # the weight of each target class
        hinge = hinge * (w_y.unsqueeze(-1) if input.ndim == 2 else w_y)
    loss = hinge.sum(class_dim) / n_classes
    return _reduce(loss, reduction)
