"""Adagrad: per-coordinate rates from the accumulated squared gradients."""

from __future__ import annotations

from typing import Any

from gradlab.kernels.optim import adagrad_update
from gradlab.optim.optimizer import (
    Optimizer,
    ParamsT,
    check_bool,
    check_nonnegative,
    compat_flags,
)
from gradlab.tensor import Tensor

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    r"""Adagrad (Duchi, Hazan and Singer 2011).

    .. math::
        G_t = G_{t-1} + g_t^2, \qquad
        \theta_t = \theta_{t-1} - \frac{\eta_t}{\sqrt{G_t} + \epsilon} g_t, \qquad
        \eta_t = \frac{\eta}{1 + (t-1)\,\text{lr\_decay}}

    G_0 is ``initial_accumulator_value``; g_t includes ``weight_decay * theta``.
    The paper puts delta inside or outside the root depending on the
    variant; PyTorch (and this) add eps outside, and add the ``lr_decay``
    schedule, which the paper does not have.

    Args:
        params: parameters or parameter groups.
        lr: eta (default 1e-2).
        lr_decay: (default 0).
        weight_decay: L2 coefficient (default 0).
        initial_accumulator_value: G_0 (default 0).
        eps: epsilon (default 1e-10).
        maximize: ascend instead of descend.
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, lr_decay: float = 0.0,
                 weight_decay: float = 0.0, initial_accumulator_value: float = 0.0,
                 eps: float = 1e-10, foreach: bool | None = None, *, maximize: bool = False,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, maximize=maximize,
                        **compat_flags(foreach, fused, False, differentiable))
        defaults.pop("capturable")
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        for name in ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
            check_nonnegative(name, group[name])
        check_bool("maximize", group["maximize"])

    def _update(self, param: Tensor, grad: Any, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        if not state:
            state["step"] = 0
            state["sum"] = self._zeros_like(param)
            state["sum"].array += group["initial_accumulator_value"]
        state["step"] += 1
        adagrad_update(param.array, grad, state["sum"].array, step=state["step"], lr=group["lr"],
                       lr_decay=group["lr_decay"], eps=group["eps"], weight_decay=group["weight_decay"],
                       maximize=group["maximize"])
