"""The pieces of one training step that do not depend on the Trainer's
state: unpacking a batch, the (multitask) loss, the metrics."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from gradlab import backend
from gradlab.tensor import Tensor


def _to(value: Any, device: backend.Device | None) -> Any:
    if device is None:
        return value
    if isinstance(value, Tensor):
        return value.to(device)
    if isinstance(value, dict):
        return {k: _to(v, device) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return type(value)(_to(v, device) for v in value)
    return value


def split_batch(batch: Any, device: backend.Device | None) -> tuple[Any, Any]:
    """``(inputs, target)`` of a batch: ``(x, y)``, ``(x, y1, y2, ...)``
    (the targets as a tuple), ``(x,)`` or ``x`` alone (no target)."""
    if isinstance(batch, (tuple, list)):
        if len(batch) == 0:
            raise ValueError("got an empty batch")
        x = batch[0]
        target = None if len(batch) == 1 else batch[1] if len(batch) == 2 else tuple(batch[1:])
    else:
        x, target = batch, None
    return _to(x, device), _to(target, device)


def batch_size(x: Any) -> int:
    if isinstance(x, Tensor):
        return int(x.shape[0]) if x.ndim else 1
    if isinstance(x, dict):
        return batch_size(next(iter(x.values())))
    if isinstance(x, (tuple, list)):
        return batch_size(x[0])
    return len(x)


def _heads(names: list[str], value: Any, what: str) -> dict[str, Any]:
    """Outputs or targets of a multitask model as a dict head -> value."""
    if isinstance(value, Mapping):
        missing = [n for n in names if n not in value]
        if missing:
            raise KeyError(f"multitask {what} has no head(s) {missing}; it has {sorted(value)}")
        return {n: value[n] for n in names}
    if isinstance(value, (tuple, list)) and len(value) == len(names):
        return dict(zip(names, value))
    raise ValueError(
        f"a multitask {what} must be a dict keyed by the heads {names} or a tuple of "
        f"{len(names)} values in that order, got {type(value).__name__}"
    )


def compute_loss(
    loss_fn: Callable[..., Tensor] | Mapping[str, Callable[..., Tensor]],
    weights: Mapping[str, float],
    output: Any,
    target: Any,
    multitask: bool,
) -> tuple[Tensor, dict[str, float]]:
    """The loss to minimise and, for a multitask model, each head's loss
    (logged as ``loss_<head>``)."""
    if target is None:
        raise ValueError("the batch has no target: a training or evaluation batch must be (x, y, ...)")
    if not multitask:
        return loss_fn(output, target), {}
    names = list(loss_fn)
    outputs, targets = _heads(names, output, "model output"), _heads(names, target, "target")
    total: Tensor | None = None
    parts = {}
    for name in names:
        head_loss = loss_fn[name](outputs[name], targets[name])
        parts[f"loss_{name}"] = float(head_loss.item())
        weighted = head_loss * float(weights.get(name, 1.0))
        total = weighted if total is None else total + weighted
    return total, parts


def compute_metrics(
    metrics: Mapping[str, Callable[[Tensor, Tensor], float]],
    output: Any,
    target: Any,
    multitask: bool,
    heads: list[str] | None = None,
) -> dict[str, float]:
    if not metrics:
        return {}
    if not multitask:
        return {name: float(fn(output, target)) for name, fn in metrics.items()}
    names = heads or (list(output) if isinstance(output, Mapping) else [str(i) for i in range(len(output))])
    outputs, targets = _heads(names, output, "model output"), _heads(names, target, "target")
    logs = {}
    for head in names:
        for name, fn in metrics.items():
            logs[f"{name}_{head}"] = float(fn(outputs[head], targets[head]))
    return logs
