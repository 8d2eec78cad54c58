"""The linear scaling rule for the learning rate and the batch size."""

from __future__ import annotations

from gradlab.optim.lr_scheduler.base import check_int, check_real

__all__ = ["linear_scaling_rule"]


def linear_scaling_rule(base_lr: float, base_batch_size: int, batch_size: int) -> float:
    """The learning rate for ``batch_size`` given a good one for
    ``base_batch_size``: lr = base_lr * batch_size / base_batch_size.

    "If you increase the batch size by N, scale the learning rate by N"
    (Goyal et al., "Accurate, Large Minibatch SGD", 2017): k times as many
    examples per step average the gradient over k times as many terms, so
    k steps of the small batch move about as far as one step of the large one
    with a k times larger rate. It holds while the rate stays small enough
    (pair it with a warmup) and breaks down for very large batches.

    Example:
        >>> linear_scaling_rule(0.1, 256, 1024)
        0.4
    """
    check_real("base_lr", base_lr, 0.0)
    check_int("base_batch_size", base_batch_size, 1)
    check_int("batch_size", batch_size, 1)
    return base_lr * batch_size / base_batch_size
