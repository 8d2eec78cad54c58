"""Stochastic gradient descent with momentum and Nesterov momentum."""

from __future__ import annotations

from typing import Any

from gradlab.kernels.optim import sgd_update
from gradlab.optim.optimizer import (
    Optimizer,
    ParamsT,
    check_bool,
    check_nonnegative,
    compat_flags,
)
from gradlab.tensor import Tensor

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""Stochastic gradient descent, optionally with (Nesterov) momentum.

    With g_t the gradient (negated when ``maximize``) plus ``weight_decay *
    theta``, PyTorch's rule, which this follows exactly, is

    .. math::
        b_1 = g_1, \quad b_t = \mu b_{t-1} + (1 - \tau) g_t, \qquad
        d_t = g_t + \mu b_t \ \text{(nesterov)} \ \text{or} \ b_t, \qquad
        \theta_t = \theta_{t-1} - \eta d_t

    (Robbins and Monro 1951; momentum: Polyak 1964; Nesterov 1983 as
    reformulated by Sutskever et al. 2013). Where PyTorch departs from
    Sutskever et al.: they write v <- mu v - eta g, theta <- theta + v, with
    the learning rate inside the velocity; here eta multiplies the buffer
    afterwards, which differs whenever eta changes during training (a
    schedule), and the Nesterov step uses the gradient at theta rather than at
    the look-ahead point (the usual change of variable).

    Args:
        params: parameters or parameter groups.
        lr: learning rate eta (default 1e-3).
        momentum: mu (default 0).
        dampening: tau (default 0).
        weight_decay: L2 penalty coefficient (default 0).
        nesterov: use Nesterov momentum (needs momentum > 0 and dampening 0).
        maximize: ascend instead of descend.

    Example:
        >>> opt = SGD(params, lr=0.1, momentum=0.9, nesterov=True)
        >>> opt.zero_grad(); loss.backward(); opt.step()
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False, *,
                 maximize: bool = False, foreach: bool | None = None,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize,
                        **compat_flags(foreach, fused, False, differentiable))
        defaults.pop("capturable")
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        for name in ("lr", "momentum", "dampening", "weight_decay"):
            check_nonnegative(name, group[name])
        check_bool("nesterov", group["nesterov"])
        check_bool("maximize", group["maximize"])
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening, got "
                             f"momentum={group['momentum']!r}, dampening={group['dampening']!r}")

    def _update(self, param: Tensor, grad: Any, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        buf, first = None, False
        if group["momentum"] != 0:
            first = "momentum_buffer" not in state
            if first:
                state["momentum_buffer"] = self._zeros_like(param)
            buf = state["momentum_buffer"].array
        sgd_update(param.array, grad, buf, first=first, lr=group["lr"],
                   momentum=group["momentum"], dampening=group["dampening"],
                   nesterov=group["nesterov"], weight_decay=group["weight_decay"],
                   maximize=group["maximize"])
