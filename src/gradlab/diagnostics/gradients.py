"""Per-parameter gradient norms and update-to-weight ratios.

The update-to-weight ratio of a parameter is, for one optimizer step,

    ratio = ||W_after - W_before|| / ||W_before||     (Frobenius norms)

cs231n ("Neural Networks Part 3", babysitting the learning process) gives
~1e-3 as a healthy value: much larger and the learning rate is probably too
high, much smaller and it is probably too low. The norm of the whole update
is used, as cs231n's ``update_scale / param_scale``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gradlab import backend, nn
from gradlab.optim import Optimizer

__all__ = ["ParamStats", "gradient_stats", "update_ratio"]


@dataclass
class ParamStats:
    """Gradient statistics of one parameter (``grad_norm`` is None when the
    parameter has no gradient; ``update_ratio`` None without an optimizer
    step)."""

    name: str
    shape: tuple[int, ...]
    weight_norm: float
    grad_norm: float | None
    update_ratio: float | None = None


def as_host(array: object) -> np.ndarray:
    """A float64 NumPy copy (or view) of a NumPy or CuPy array."""
    return np.asarray(backend.to_device(array, backend.CPU), dtype=np.float64)


def update_ratio(before: np.ndarray, after: np.ndarray) -> float:
    """``||after - before|| / ||before||`` (inf when ``before`` is all zeros
    and the step moved it, 0 when nothing moved)."""
    step = float(np.linalg.norm(as_host(after) - as_host(before)))
    scale = float(np.linalg.norm(as_host(before)))
    if scale == 0.0:
        return 0.0 if step == 0.0 else float("inf")
    return step / scale


def gradient_stats(model: nn.Module, optimizer: Optimizer | None = None) -> list[ParamStats]:
    """Describe the gradients that ``backward`` left on ``model``'s parameters.

    With an ``optimizer``, this function also takes its step
    (``optimizer.step()``, no ``zero_grad``): the weights are copied before
    and compared after, giving each parameter's update-to-weight ratio.
    Call it in place of the training loop's own ``step`` on the batches to
    watch.

    Args:
        model: a network after ``loss.backward()``.
        optimizer: the optimizer whose step to measure, or None.

    Returns:
        one :class:`ParamStats` per parameter, in ``named_parameters`` order.

    Example:
        >>> loss_fn(model(x), y).backward()
        >>> for s in gradient_stats(model, optimizer):
        ...     print(s.name, s.grad_norm, s.update_ratio)
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a gradlab.nn.Module, got {type(model).__name__}")
    if optimizer is not None and not isinstance(optimizer, Optimizer):
        raise TypeError(
            f"optimizer must be a gradlab.optim.Optimizer or None, got {type(optimizer).__name__}"
        )
    named = list(model.named_parameters())
    stats = []
    for name, p in named:
        grad = None if p.grad is None else float(np.linalg.norm(as_host(p.grad.array)))
        stats.append(ParamStats(name, tuple(p.shape), float(np.linalg.norm(as_host(p.array))), grad))
    if optimizer is not None:
        before = [as_host(p.array).copy() for _, p in named]
        optimizer.step()
        for s, (_, p), old in zip(stats, named, before):
            s.update_ratio = update_ratio(old, p.array)
    return stats
