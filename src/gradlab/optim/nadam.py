"""NAdam: Adam with Nesterov momentum."""

from __future__ import annotations

from typing import Any

from gradlab.kernels.optim import nadam_update
from gradlab.optim.optimizer import (
    Optimizer,
    ParamsT,
    check_betas,
    check_bool,
    check_nonnegative,
    compat_flags,
)
from gradlab.tensor import Tensor

__all__ = ["NAdam"]


class NAdam(Optimizer):
    r"""NAdam: Adam with Nesterov momentum (Dozat 2016), with the momentum
    schedule mu_t = beta1 (1 - 0.5 * 0.96^(t psi)) of PyTorch (psi =
    ``momentum_decay``).

    .. math::
        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t, \quad
        v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2, \\
        \theta_t = \theta_{t-1} - \eta \Big[\frac{(1-\mu_t) g_t}{1-\prod_{i\le t}\mu_i}
            + \frac{\mu_{t+1} m_t}{1-\prod_{i\le t+1}\mu_i}\Big]
            \Big/ \Big(\sqrt{v_t/(1-\beta_2^t)} + \epsilon\Big)

    The running product of mu is kept in float64 (PyTorch keeps it in the
    default scalar dtype, float32 unless the default dtype is float64).

    Args:
        params: parameters or parameter groups.
        lr: eta (default 2e-3).
        betas: (beta1, beta2) (default (0.9, 0.999)).
        eps: epsilon (default 1e-8).
        weight_decay: L2 coefficient (default 0), or decoupled decay with
            ``decoupled_weight_decay=True`` (NAdamW).
        momentum_decay: psi (default 4e-3).
        maximize: ascend instead of descend.
    """

    def __init__(self, params: ParamsT, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False) -> None:
        defaults = dict(lr=lr, betas=tuple(betas) if isinstance(betas, list) else betas, eps=eps,
                        weight_decay=weight_decay, momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize,
                        **compat_flags(foreach, None, capturable, differentiable))
        defaults.pop("fused")
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        for name in ("lr", "eps", "weight_decay", "momentum_decay"):
            check_nonnegative(name, group[name])
        check_betas(group["betas"])
        check_bool("decoupled_weight_decay", group["decoupled_weight_decay"])
        check_bool("maximize", group["maximize"])

    def _update(self, param: Tensor, grad: Any, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        if not state:
            state["step"] = 0
            state["mu_product"] = 1.0
            state["exp_avg"] = self._zeros_like(param)
            state["exp_avg_sq"] = self._zeros_like(param)
        state["step"] += 1
        step = state["step"]
        beta1, beta2 = group["betas"]
        psi = group["momentum_decay"]
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * psi))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * psi))
        state["mu_product"] *= mu
        nadam_update(param.array, grad, state["exp_avg"].array, state["exp_avg_sq"].array,
                     step=step, mu=mu,
                     mu_next=mu_next, mu_product=state["mu_product"], lr=group["lr"], beta1=beta1,
                     beta2=beta2, eps=group["eps"], weight_decay=group["weight_decay"],
                     decoupled_weight_decay=group["decoupled_weight_decay"],
                     maximize=group["maximize"])
