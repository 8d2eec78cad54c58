"""RMSprop, with momentum, centering, and Nesterov momentum (Goodfellow et
al., Algorithm 8.6)."""

from __future__ import annotations

from typing import Any

from gradlab.kernels.optim import rmsprop_update
from gradlab.optim.optimizer import (
    Optimizer,
    ParamsT,
    check_bool,
    check_interval,
    check_nonnegative,
    compat_flags,
)
from gradlab.tensor import Tensor

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    r"""RMSprop (Hinton, Srivastava and Swersky, lecture 6e, 2012), with
    PyTorch's momentum and centered variants, and Nesterov momentum.

    With g_t the gradient (+ ``weight_decay * theta``) and alpha the decay
    rate (rho in Goodfellow et al.):

    .. math::
        r_t = \alpha r_{t-1} + (1-\alpha) g_t^2, \qquad
        \bar g_t = \alpha \bar g_{t-1} + (1-\alpha) g_t \ \text{(centered)}, \\
        s_t = \sqrt{r_t} + \epsilon \quad \text{or} \quad
              \sqrt{r_t - \bar g_t^2} + \epsilon \ \text{(centered)}, \\
        \theta_t = \theta_{t-1} - \eta\, g_t / s_t \quad \text{or, with momentum }\mu:\quad
        b_t = \mu b_{t-1} + g_t / s_t,\ \ \theta_t = \theta_{t-1} - \eta b_t

    ``nesterov=True`` (not in PyTorch) is Goodfellow, Bengio and Courville,
    *Deep Learning*, Algorithm 8.6, RMSProp with Nesterov momentum: the
    gradient is taken at the interim point theta + mu v, then
    v <- mu v - eta g / s, theta <- theta + v. So that the gradient the user
    computes at the parameters is that interim gradient, the parameters hold
    the look-ahead point phi = theta + mu v (the change of variable Sutskever
    et al. 2013 use for Nesterov momentum; phi = theta at the start, since
    v = 0), and the step is phi <- phi - mu v_old + (1 + mu) v_new. The
    algorithm divides by sqrt(r) alone; like PyTorch's RMSprop this adds eps
    to the root, so that a zero gradient does not divide by zero (and it can
    be centered). Velocity v is stored as ``state["momentum_buffer"]``.

    Args:
        params: parameters or parameter groups.
        lr: eta (default 1e-2).
        alpha: decay rate of the squared-gradient average (default 0.99).
        eps: epsilon (default 1e-8).
        weight_decay: L2 coefficient (default 0).
        momentum: mu (default 0).
        centered: normalize by an estimate of the variance of the gradient.
        nesterov: Algorithm 8.6 (needs momentum > 0).
        maximize: ascend instead of descend.
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False,
                 capturable: bool = False, foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False, *, nesterov: bool = False) -> None:
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                        centered=centered, nesterov=nesterov, maximize=maximize,
                        **compat_flags(foreach, None, capturable, differentiable))
        defaults.pop("fused")
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        for name in ("lr", "eps", "weight_decay", "momentum"):
            check_nonnegative(name, group[name])
        check_interval("alpha", group["alpha"], 0.0, 1.0, high_closed=True)
        for name in ("centered", "nesterov", "maximize"):
            check_bool(name, group[name])
        if group["nesterov"] and group["momentum"] <= 0:
            raise ValueError("Invalid nesterov: True needs momentum > 0, got "
                             f"momentum={group['momentum']!r}")

    def _update(self, param: Tensor, grad: Any, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        if not state:
            state["step"] = 0
            state["square_avg"] = self._zeros_like(param)
            if group["momentum"] > 0:
                state["momentum_buffer"] = self._zeros_like(param)
            if group["centered"]:
                state["grad_avg"] = self._zeros_like(param)
        state["step"] += 1
        grad_avg = state["grad_avg"].array if group["centered"] else None
        buf = state["momentum_buffer"].array if group["momentum"] > 0 else None
        rmsprop_update(param.array, grad, state["square_avg"].array, grad_avg, buf,
                       lr=group["lr"], alpha=group["alpha"],
                       eps=group["eps"], weight_decay=group["weight_decay"],
                       momentum=group["momentum"], nesterov=group["nesterov"],
                       maximize=group["maximize"])
