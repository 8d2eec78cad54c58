"""Split a model's parameters into a decayed and a non-decayed group."""

from __future__ import annotations

from typing import Any

from gradlab.optim.optimizer import check_nonnegative

__all__ = ["param_groups"]


def param_groups(model: Any, weight_decay: float) -> list[dict[str, Any]]:
    """Two parameter groups for an optimizer: weights with ``weight_decay``,
    and biases and normalization parameters with none.

    Weight decay (an L2 penalty) is there to limit the capacity that the
    weights give the model; biases and the scale/shift of normalization layers
    control no interaction between inputs, and penalizing them mostly
    underfits ("bias terms are usually left unregularized", Goodfellow et al.,
    *Deep Learning*, section 7.1). A parameter goes to the no-decay group when
    its name ends in ``bias`` or it belongs to a module whose class name
    contains ``Norm`` (BatchNorm, LayerNorm, GroupNorm, ...). Shared
    parameters are listed once. The model only needs ``named_modules()`` and
    ``named_parameters()``, as a ``gradlab.nn.Module`` (or torch's) has.

    Args:
        model: the model.
        weight_decay: the coefficient of the decayed group.

    Returns:
        ``[{"params": decayed, "weight_decay": weight_decay},
        {"params": not_decayed, "weight_decay": 0.0}]``; an empty group is
        left out.

    Example:
        >>> opt = gradlab.optim.AdamW(param_groups(model, 0.05), lr=1e-3)
    """
    check_nonnegative("weight_decay", weight_decay)
    no_decay: set[int] = set()
    for _, module in model.named_modules():
        if "Norm" in type(module).__name__:
            no_decay.update(id(p) for _, p in module.named_parameters())
    decay, keep = [], []
    seen: set[int] = set()
    for name, p in model.named_parameters():
        if id(p) in seen or not getattr(p, "requires_grad", True):
            continue
        seen.add(id(p))
        if name.rsplit(".", 1)[-1] == "bias" or id(p) in no_decay:
            keep.append(p)
        else:
            decay.append(p)
    groups = []
    if decay:
        groups.append({"params": decay, "weight_decay": weight_decay})
    if keep:
        groups.append({"params": keep, "weight_decay": 0.0})
    return groups
