r"""Adam (with AdamW's decoupled decay and AMSGrad) and NAdam as one fused
pass per parameter.

Adam (Kingma and Ba 2015, Algorithm 1; AMSGrad: Reddi et al. 2018; decoupled
weight decay: Loshchilov and Hutter 2019), as PyTorch computes it:

.. math::
    \theta \leftarrow \theta (1 - \eta \lambda) \ \text{(decoupled)}, \quad
    m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t, \quad
    v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2, \\
    \hat v_t = \max(\hat v_{t-1}, v_t) \ \text{(AMSGrad) or} \ v_t, \qquad
    \theta_t = \theta_{t-1} - \frac{\eta}{1-\beta_1^t}
               \frac{m_t}{\sqrt{\hat v_t}/\sqrt{1-\beta_2^t} + \epsilon}

NAdam (Dozat 2016) with PyTorch's momentum schedule mu_t:

.. math::
    \theta_t = \theta_{t-1} - \eta \Big[\frac{(1-\mu_t) g_t}{1-\prod_{i\le t}\mu_i}
        + \frac{\mu_{t+1} m_t}{1-\prod_{i\le t+1}\mu_i}\Big]
        \Big/ \Big(\sqrt{v_t/(1-\beta_2^t)} + \epsilon\Big)

g_t is the gradient (negated when ``maximize``) plus ``weight_decay *
theta`` unless the decay is decoupled.
"""

from __future__ import annotations

import math
from typing import Any

from gradlab.backend import array_module
from gradlab.kernels._jit import cpu_kernel, flat_input, prange, reads_as, scalars_like, writes_into

__all__ = ["adam_kernel", "adam_reference", "adam_update", "nadam_kernel", "nadam_reference",
           "nadam_update"]


# ------------------------------------------------------------------ Adam
@cpu_kernel
def adam_kernel(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, beta1, one_minus_beta1, beta2,
                one_minus_beta2, eps, weight_decay, decay, decoupled, maximize, step_size,
                bc2_sqrt):  # pragma: no cover
    """One Adam step over flat arrays; ``decay`` = 1 - lr weight_decay,
    ``step_size`` = lr / (1 - beta1^t), ``bc2_sqrt`` = sqrt(1 - beta2^t), all
    scalars of the arrays' dtype; ``max_exp_avg_sq`` is None without
    AMSGrad (known when Numba compiles, so each variant is its own loop,
    which LLVM vectorizes)."""
    for i in prange(param.size):
        g = -grad[i] if maximize else grad[i]
        if decoupled:
            param[i] *= decay
        else:
            g += weight_decay * param[i]
        exp_avg[i] = beta1 * exp_avg[i] + one_minus_beta1 * g
        exp_avg_sq[i] = beta2 * exp_avg_sq[i] + one_minus_beta2 * g * g
        v = exp_avg_sq[i]
        if max_exp_avg_sq is not None:
            if v > max_exp_avg_sq[i]:
                max_exp_avg_sq[i] = v
            v = max_exp_avg_sq[i]
        param[i] -= step_size * exp_avg[i] / (math.sqrt(v) / bc2_sqrt + eps)


def _moment_scalars(param: Any, lr: float, beta1: float, beta2: float, eps: float,
                    weight_decay: float) -> tuple[Any, ...]:
    """The scalars Adam's and NAdam's kernels share, in their order: beta1,
    1 - beta1, beta2, 1 - beta2, eps, weight_decay and the decoupled decay
    factor 1 - lr weight_decay, in ``param``'s dtype."""
    return scalars_like(param, beta1, 1 - beta1, beta2, 1 - beta2, eps, weight_decay,
                        1 - lr * weight_decay)


def _gradient(param: Any, grad: Any, weight_decay: float, decoupled: bool, maximize: bool,
              lr: float) -> Any:
    """Decoupled decay applied to ``param`` in place, and the gradient the
    moments see (a new array when it differs from ``grad``)."""
    g = -grad if maximize else grad
    if weight_decay != 0:
        if decoupled:
            param *= 1 - lr * weight_decay
        else:
            g = g + weight_decay * param
    return g


def adam_reference(param: Any, grad: Any, exp_avg: Any, exp_avg_sq: Any,
                   max_exp_avg_sq: Any | None, *, step: int, lr: float, beta1: float,
                   beta2: float, eps: float, weight_decay: float, decoupled_weight_decay: bool,
                   maximize: bool) -> None:
    """The same step as array expressions (NumPy or CuPy, any layout)."""
    xp = array_module(param)
    g = _gradient(param, grad, weight_decay, decoupled_weight_decay, maximize, lr)
    exp_avg *= beta1
    exp_avg += (1 - beta1) * g
    exp_avg_sq *= beta2
    exp_avg_sq += (1 - beta2) * g * g
    v = exp_avg_sq
    if max_exp_avg_sq is not None:
        xp.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        v = max_exp_avg_sq
    denom = xp.sqrt(v) / math.sqrt(1 - beta2 ** step) + eps
    param -= lr / (1 - beta1 ** step) * exp_avg / denom


def adam_update(param: Any, grad: Any, exp_avg: Any, exp_avg_sq: Any, max_exp_avg_sq: Any | None,
                *, step: int, lr: float, beta1: float, beta2: float, eps: float,
                weight_decay: float, decoupled_weight_decay: bool, maximize: bool) -> None:
    """One Adam step (``step`` = t, counted from 1) in place on ``param`` and
    the moments (``max_exp_avg_sq`` given for AMSGrad): the kernel where it
    takes the arrays, the reference otherwise."""
    state = [param, exp_avg, exp_avg_sq] + ([] if max_exp_avg_sq is None else [max_exp_avg_sq])
    if not (writes_into(*state) and reads_as(grad, param)):
        adam_reference(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step=step, lr=lr,
                       beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay,
                       decoupled_weight_decay=decoupled_weight_decay, maximize=maximize)
        return
    adam_kernel(param.reshape(-1), flat_input(grad), exp_avg.reshape(-1), exp_avg_sq.reshape(-1),
                None if max_exp_avg_sq is None else max_exp_avg_sq.reshape(-1),
                *_moment_scalars(param, lr, beta1, beta2, eps, weight_decay),
                bool(decoupled_weight_decay), bool(maximize),
                *scalars_like(param, lr / (1 - beta1 ** step), math.sqrt(1 - beta2 ** step)))


# ------------------------------------------------------------------ NAdam
@cpu_kernel
def nadam_kernel(param, grad, exp_avg, exp_avg_sq, beta1, one_minus_beta1, beta2, one_minus_beta2,
                 eps, weight_decay, decay, decoupled, maximize, grad_coef, avg_coef,
                 bc2_sqrt):  # pragma: no cover
    """One NAdam step over flat arrays; ``decay`` = 1 - lr weight_decay,
    ``grad_coef`` = lr (1 - mu_t) / (1 - prod mu), ``avg_coef`` = lr mu_{t+1}
    / (1 - prod mu * mu_{t+1}), ``bc2_sqrt`` = sqrt(1 - beta2^t), all scalars
    of the arrays' dtype."""
    for i in prange(param.size):
        g = -grad[i] if maximize else grad[i]
        if decoupled:
            param[i] *= decay
        else:
            g += weight_decay * param[i]
        exp_avg[i] = beta1 * exp_avg[i] + one_minus_beta1 * g
        exp_avg_sq[i] = beta2 * exp_avg_sq[i] + one_minus_beta2 * g * g
        denom = math.sqrt(exp_avg_sq[i]) / bc2_sqrt + eps
        param[i] -= (grad_coef * g + avg_coef * exp_avg[i]) / denom


def nadam_reference(param: Any, grad: Any, exp_avg: Any, exp_avg_sq: Any, *, step: int,
                    mu: float, mu_next: float, mu_product: float, lr: float, beta1: float,
                    beta2: float, eps: float, weight_decay: float, decoupled_weight_decay: bool,
                    maximize: bool) -> None:
    """The same step as array expressions (NumPy or CuPy, any layout);
    ``mu_product`` is the product of mu_1..mu_t, this step's included."""
    xp = array_module(param)
    g = _gradient(param, grad, weight_decay, decoupled_weight_decay, maximize, lr)
    exp_avg *= beta1
    exp_avg += (1 - beta1) * g
    exp_avg_sq *= beta2
    exp_avg_sq += (1 - beta2) * g * g
    denom = xp.sqrt(exp_avg_sq) / math.sqrt(1 - beta2 ** step) + eps
    param -= lr * (1 - mu) / (1 - mu_product) * g / denom
    param -= lr * mu_next / (1 - mu_product * mu_next) * exp_avg / denom


def nadam_update(param: Any, grad: Any, exp_avg: Any, exp_avg_sq: Any, *, step: int, mu: float,
                 mu_next: float, mu_product: float, lr: float, beta1: float, beta2: float,
                 eps: float, weight_decay: float, decoupled_weight_decay: bool,
                 maximize: bool) -> None:
    """One NAdam step in place on ``param`` and the moments: the kernel
    where it takes the arrays, the reference otherwise."""
    if not (writes_into(param, exp_avg, exp_avg_sq) and reads_as(grad, param)):
        nadam_reference(param, grad, exp_avg, exp_avg_sq, step=step, mu=mu, mu_next=mu_next,
                        mu_product=mu_product, lr=lr, beta1=beta1, beta2=beta2, eps=eps,
                        weight_decay=weight_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize)
        return
    nadam_kernel(param.reshape(-1), flat_input(grad), exp_avg.reshape(-1), exp_avg_sq.reshape(-1),
                 *_moment_scalars(param, lr, beta1, beta2, eps, weight_decay),
                 bool(decoupled_weight_decay), bool(maximize),
                 *scalars_like(param, lr * (1 - mu) / (1 - mu_product),
                               lr * mu_next / (1 - mu_product * mu_next), math.sqrt(1 - beta2 ** step)))
