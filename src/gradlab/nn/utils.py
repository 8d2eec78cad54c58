"""Gradient clipping and flattening parameters to one vector, as
``torch.nn.utils``."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from gradlab import ops
from gradlab.autograd import no_grad
from gradlab.backend import array_module
from gradlab.kernels.clip import power_sum, scale_
from gradlab.tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector", "vector_to_parameters"]


def _params(parameters: Tensor | Iterable[Tensor]) -> list[Tensor]:
    return [parameters] if isinstance(parameters, Tensor) else list(parameters)


def clip_grad_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """Rescale the gradients so that their total norm is at most ``max_norm``
    (Pascanu et al. 2013):

        total = || (||g_1||_p, ..., ||g_k||_p) ||_p,   g_i <- g_i * min(1, max_norm / (total + 1e-6))

    Returns the total norm before clipping (a 0-d Tensor). ``norm_type`` may be
    ``inf``. With ``error_if_nonfinite`` a nan or infinite total raises
    RuntimeError; otherwise the gradients are scaled by it (becoming nan).
    """
    grads = [p.grad for p in _params(parameters) if p.grad is not None]
    norm_type = float(norm_type)
    if not grads:
        return Tensor(0.0)
    xp = array_module(grads[0].array)
    if math.isinf(norm_type):
        # np.max, not Python's max: a nan anywhere makes the total nan
        total = float(np.max([float(xp.abs(g.array).max()) if g.array.size else 0.0
                              for g in grads]))
    else:
        # sums of powers in float64 (gradlab.kernels.clip), then one root
        total = sum(power_sum(g.array, norm_type) for g in grads) ** (1.0 / norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it "
            "cannot be clipped. To disable this error and scale the gradients by the non-finite norm "
            "anyway, set `error_if_nonfinite=False`"
        )
    coef = max_norm / (total + 1e-6)
    if coef < 1 or not math.isfinite(total):
        for g in grads:
            scale_(g.array, coef)
            g._version += 1
    return Tensor._make(xp.asarray(total, dtype=grads[0].dtype))


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float,
                     foreach: bool | None = None) -> None:
    """Clamp every gradient element into [-clip_value, clip_value]."""
    clip_value = float(clip_value)
    with no_grad():
        for p in _params(parameters):
            if p.grad is not None:
                p.grad.clamp_(-clip_value, clip_value)


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters flattened and concatenated (differentiable)."""
    params = _params(parameters)
    if not params:
        raise ValueError("parameters_to_vector: got no parameters")
    return ops.cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of ``vec`` into the parameters (in place)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected vec to be a Tensor, but got {type(vec).__name__}")
    params = _params(parameters)
    total = sum(p.array.size for p in params)
    if vec.ndim != 1 or vec.shape[0] != total:
        raise ValueError(f"vector_to_parameters: vec must be 1-D with {total} elements, "
                         f"got shape {tuple(vec.shape)}")
    offset = 0
    with no_grad():
        for p in params:
            n = p.array.size
            p.copy_(vec.array[offset:offset + n].reshape(p.shape))
            offset += n
