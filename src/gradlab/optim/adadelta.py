"""Adadelta: rates from running averages of squared gradients and updates."""

from __future__ import annotations

from typing import Any

from gradlab.kernels.optim import adadelta_update
from gradlab.optim.optimizer import (
    Optimizer,
    ParamsT,
    check_bool,
    check_interval,
    check_nonnegative,
    compat_flags,
)
from gradlab.tensor import Tensor

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    r"""Adadelta (Zeiler 2012, Algorithm 1).

    .. math::
        E[g^2]_t = \rho E[g^2]_{t-1} + (1-\rho) g_t^2, \qquad
        \Delta_t = \frac{\sqrt{E[\Delta^2]_{t-1} + \epsilon}}{\sqrt{E[g^2]_t + \epsilon}} g_t, \\
        E[\Delta^2]_t = \rho E[\Delta^2]_{t-1} + (1-\rho) \Delta_t^2, \qquad
        \theta_t = \theta_{t-1} - \eta \Delta_t

    The paper has no learning rate (eta = 1, PyTorch's default); g_t includes
    ``weight_decay * theta``.

    Args:
        params: parameters or parameter groups.
        lr: eta (default 1.0).
        rho: decay rate of the running averages (default 0.9).
        eps: epsilon (default 1e-6).
        weight_decay: L2 coefficient (default 0).
        maximize: ascend instead of descend.
    """

    def __init__(self, params: ParamsT, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0.0, foreach: bool | None = None, *,
                 capturable: bool = False, maximize: bool = False,
                 differentiable: bool = False) -> None:
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        **compat_flags(foreach, None, capturable, differentiable))
        defaults.pop("fused")
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        for name in ("lr", "eps", "weight_decay"):
            check_nonnegative(name, group[name])
        check_interval("rho", group["rho"], 0.0, 1.0, high_closed=True)
        check_bool("maximize", group["maximize"])

    def _update(self, param: Tensor, grad: Any, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        if not state:
            state["step"] = 0
            state["square_avg"] = self._zeros_like(param)
            state["acc_delta"] = self._zeros_like(param)
        state["step"] += 1
        adadelta_update(param.array, grad, state["square_avg"].array, state["acc_delta"].array,
                        lr=group["lr"],
                        rho=group["rho"], eps=group["eps"], weight_decay=group["weight_decay"],
                        maximize=group["maximize"])
