"""AdamW: Adam with decoupled weight decay."""

from __future__ import annotations

from gradlab.optim.adam import Adam
from gradlab.optim.optimizer import ParamsT

__all__ = ["AdamW"]


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov and Hutter 2019,
    Algorithm 2).

    Before the Adam step, theta <- theta (1 - eta lambda); the decay never
    passes through the moment estimates, so it is not rescaled by them as an
    L2 term in the gradient would be. As in PyTorch, the decay is multiplied
    by the learning rate eta (the paper multiplies it by a schedule
    multiplier eta_t only, with lambda tuned separately), and the default
    ``weight_decay`` is 1e-2.

    Args: as :class:`Adam`; ``weight_decay`` is lambda (default 1e-2).
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False, foreach: bool | None = None, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach,
                         maximize=maximize, capturable=capturable, differentiable=differentiable,
                         fused=fused, decoupled_weight_decay=True)
