"""Adam: adaptive moment estimation (and AMSGrad)."""

from __future__ import annotations

from typing import Any

from gradlab.kernels.optim import adam_update
from gradlab.optim.optimizer import (
    Optimizer,
    ParamsT,
    check_betas,
    check_bool,
    check_nonnegative,
    compat_flags,
)
from gradlab.tensor import Tensor

__all__ = ["Adam"]


class Adam(Optimizer):
    r"""Adam (Kingma and Ba 2015, Algorithm 1; AMSGrad: Reddi et al. 2018).

    With g_t the gradient (+ ``weight_decay * theta`` unless decoupled):

    .. math::
        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t, \quad
        v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2, \quad
        \theta_t = \theta_{t-1} - \frac{\eta}{1-\beta_1^t}
                   \frac{m_t}{\sqrt{v_t}/\sqrt{1-\beta_2^t} + \epsilon}

    With ``amsgrad`` the running maximum of v_t replaces v_t in the
    denominator. As Algorithm 1 of the paper and PyTorch, epsilon is added to
    the bias-corrected sqrt(v_t-hat) (the paper's "efficient version" at the
    end of its section 2 adds it to the uncorrected sqrt(v_t), which differs
    slightly early in training). ``weight_decay`` is an L2 term added to the
    gradient, as in PyTorch (Loshchilov and Hutter 2019 show why that is not
    weight decay for Adam; see :class:`AdamW` or ``decoupled_weight_decay``).

    Args:
        params: parameters or parameter groups.
        lr: eta (default 1e-3).
        betas: (beta1, beta2) (default (0.9, 0.999)).
        eps: epsilon (default 1e-8).
        weight_decay: L2 coefficient (default 0).
        amsgrad: use AMSGrad's maximum of second moments.
        maximize: ascend instead of descend.
        decoupled_weight_decay: shrink theta by (1 - eta * weight_decay) instead
            (this is AdamW).
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, amsgrad: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None,
                 decoupled_weight_decay: bool = False) -> None:
        defaults = dict(lr=lr, betas=tuple(betas) if isinstance(betas, list) else betas, eps=eps,
                        weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize,
                        decoupled_weight_decay=decoupled_weight_decay,
                        **compat_flags(foreach, fused, capturable, differentiable))
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        for name in ("lr", "eps", "weight_decay"):
            check_nonnegative(name, group[name])
        check_betas(group["betas"])
        for name in ("amsgrad", "maximize", "decoupled_weight_decay"):
            check_bool(name, group[name])

    def _update(self, param: Tensor, grad: Any, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        if not state:
            state["step"] = 0
            state["exp_avg"] = self._zeros_like(param)
            state["exp_avg_sq"] = self._zeros_like(param)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = self._zeros_like(param)
        state["step"] += 1
        beta1, beta2 = group["betas"]
        max_sq = state["max_exp_avg_sq"].array if group["amsgrad"] else None
        adam_update(param.array, grad, state["exp_avg"].array, state["exp_avg_sq"].array, max_sq,
                    step=state["step"], lr=group["lr"], beta1=beta1,
                    beta2=beta2, eps=group["eps"], weight_decay=group["weight_decay"],
                    decoupled_weight_decay=group["decoupled_weight_decay"],
                    maximize=group["maximize"])
