"""Metrics the Trainer logs: functions ``(output, target) -> float``, the
mean over the batch, averaged over an epoch weighted by batch size."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from gradlab.tensor import Tensor

__all__ = ["accuracy", "mean_absolute_error", "mean_squared_error", "resolve_metrics"]

Metric = Callable[[Tensor, Tensor], float]


def _host(t: Any) -> np.ndarray:
    if isinstance(t, Tensor):
        return t.detach().numpy(force=True) if t.device.type != "cpu" else t.array
    return np.asarray(t)


def accuracy(output: Tensor, target: Tensor) -> float:
    """Fraction of samples whose arg-max class equals the target.

    ``output`` holds scores (N, C); ``target`` class indices (N,) or class
    probabilities (N, C), e.g. MixUp's soft targets, whose arg-max is then
    the class. A single score column (N, 1) or (N,) with a 0/1 target is read
    as a binary logit (positive when > 0).
    """
    out, tgt = _host(output), _host(target)
    if tgt.ndim == out.ndim and tgt.ndim > 1 and tgt.shape == out.shape and out.shape[1] > 1:
        tgt = tgt.argmax(axis=1)
    if out.ndim == 1 or (out.ndim == 2 and out.shape[1] == 1):
        predicted = (out.reshape(-1) > 0).astype(np.int64)
        return float(np.mean(predicted == tgt.reshape(-1)))
    return float(np.mean(out.argmax(axis=1) == tgt))


def mean_absolute_error(output: Tensor, target: Tensor) -> float:
    """mean |output - target|."""
    return float(np.mean(np.abs(_host(output) - _host(target))))


def mean_squared_error(output: Tensor, target: Tensor) -> float:
    """mean (output - target)^2."""
    return float(np.mean((_host(output) - _host(target)) ** 2))


_NAMED: dict[str, Metric] = {
    "accuracy": accuracy,
    "acc": accuracy,
    "mae": mean_absolute_error,
    "mse": mean_squared_error,
}


def resolve_metrics(metrics: Any) -> dict[str, Metric]:
    """``None``, a list of names/functions, or a dict name -> function."""
    if metrics is None:
        return {}
    items: list[tuple[str, Any]]
    if isinstance(metrics, Mapping):
        items = list(metrics.items())
    elif isinstance(metrics, Sequence) and not isinstance(metrics, str):
        items = [
            (m if isinstance(m, str) else getattr(m, "__name__", f"metric{i}"), m)
            for i, m in enumerate(metrics)
        ]
    else:
        raise TypeError(f"metrics must be a list of names/functions or a dict, got {metrics!r}")
    resolved: dict[str, Metric] = {}
    for name, fn in items:
        if isinstance(fn, str):
            if fn not in _NAMED:
                raise ValueError(f"unknown metric {fn!r}; expected one of {sorted(_NAMED)} or a function")
            name, fn = ("accuracy" if fn == "acc" else fn), _NAMED[fn]
        if not callable(fn):
            raise TypeError(f"metric {name!r} must be callable, got {type(fn).__name__}")
        resolved[name] = fn
    return resolved
