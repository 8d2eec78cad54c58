"""Newton-Raphson with the exact Hessian, for small models and convex
problems."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gradlab.autograd import enable_grad, grad
from gradlab.backend import array_module
from gradlab.optim.optimizer import Optimizer, ParamsT, check_nonnegative
from gradlab.tensor import Tensor

__all__ = ["Newton"]


class Newton(Optimizer):
    r"""Exact (damped) Newton-Raphson:

    .. math::
        \theta \leftarrow \theta - \eta\, (H + \lambda I)^{-1} g, \qquad
        g = \nabla L(\theta), \quad H = \nabla^2 L(\theta)

    over all parameters of all groups taken as one vector (the Hessian
    couples them), with eta = ``lr`` and lambda = ``damping``. The Hessian
    is formed by the engine's double backward: the gradient is computed with
    ``create_graph=True`` and differentiated once per parameter entry, so a
    step costs n backward passes and O(n^2) memory for n parameters; above
    ``max_params`` entries the optimizer refuses (raise the limit if you mean
    it). On a quadratic, lr = 1 and no damping reach the minimum in one step;
    near a minimum of a smooth function the convergence is quadratic. Far
    from a minimum, or where H is not positive definite, Newton's step need
    not descend: damping (Levenberg 1944; Marquardt 1963) shifts the
    spectrum, and lr < 1 shortens the step. Not in PyTorch.

    ``step(closure)`` needs a closure that computes and returns the loss
    from the parameters; it must not call ``backward`` itself (or must call
    it with ``create_graph=True``), since the optimizer differentiates the
    loss twice. The gradient is left in each parameter's ``grad``.

    Args:
        params: parameters or parameter groups (groups share one step; the
            first group's ``lr`` and ``damping`` are used).
        lr: eta (default 1).
        damping: lambda >= 0 (default 0).
        max_params: largest number of parameter entries allowed (default 2000).

    Example:
        >>> opt = Newton([w], lr=1.0)
        >>> opt.step(lambda: ((x @ w - y) ** 2).mean())
    """

    def __init__(self, params: ParamsT, lr: float = 1.0, damping: float = 0.0,
                 max_params: int = 2000) -> None:
        super().__init__(params, dict(lr=lr, damping=damping, max_params=max_params))

    def _validate_group(self, group: dict[str, Any]) -> None:
        check_nonnegative("lr", group["lr"])
        check_nonnegative("damping", group["damping"])
        limit = group["max_params"]
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"Invalid max_params: {limit!r} (expected an integer >= 1)")

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One Newton step; returns the loss the closure computed."""
        if closure is None:
            raise RuntimeError("Newton.step needs a closure that computes and returns the loss "
                               "(without calling backward)")
        params = [p for g in self.param_groups for p in g["params"] if p.requires_grad]
        first = self.param_groups[0]
        n = sum(p.array.size for p in params)
        if n > first["max_params"]:
            raise RuntimeError(f"Newton: the Hessian of {n} parameters would have {n * n} "
                               f"entries, above max_params={first['max_params']}; pass a larger "
                               "max_params to Newton(...) if you mean it")
        with enable_grad():
            loss = closure()
            if not isinstance(loss, Tensor) or loss.array.size != 1:
                raise RuntimeError("Newton.step: the closure must return the loss as a "
                                   f"one-element Tensor, got {type(loss).__name__}")
            if not loss.requires_grad:
                raise RuntimeError("Newton.step: the loss the closure returned does not depend "
                                   "on the parameters (it has no graph)")
            grads = grad(loss, params, create_graph=True, allow_unused=True,
                         materialize_grads=True)
            hessian = self._hessian(grads, params, n)
        xp = array_module(params[0].array)
        g = xp.concatenate([gr.array.ravel() for gr in grads])
        damped = hessian + first["damping"] * xp.eye(n, dtype=hessian.dtype)
        try:
            direction = xp.linalg.solve(damped, g)
        except np.linalg.LinAlgError as err:  # CuPy raises NumPy's error too
            raise RuntimeError("Newton: the Hessian (plus damping) is singular; use damping > 0"
                               ) from err
        if not bool(xp.isfinite(direction).all()):  # CuPy returns inf/nan instead of raising
            raise RuntimeError("Newton: the Hessian (plus damping) is singular; use damping > 0")
        offset = 0
        for p, gr in zip(params, grads):
            size = p.array.size
            p.array -= first["lr"] * direction[offset:offset + size].reshape(p.array.shape)
            p._version += 1
            p.grad = gr.detach()
            offset += size
        return loss.detach()

    @staticmethod
    def _hessian(grads: tuple, params: list, n: int) -> Any:
        """H[i, :] = d g_i / d theta, one backward of the gradient graph per
        entry, with one-hot vectors as its grad_outputs."""
        xp = array_module(params[0].array)
        hessian = xp.zeros((n, n), dtype=params[0].array.dtype)
        live = [i for i, gr in enumerate(grads) if gr.requires_grad]
        if not live:  # the loss is linear in the parameters
            return hessian
        offsets = [0]
        for p in params:
            offsets.append(offsets[-1] + p.array.size)
        for k in range(n):
            which = next(i for i in range(len(params)) if offsets[i] <= k < offsets[i + 1])
            if which not in live:
                continue
            one_hot = xp.zeros(params[which].array.size, dtype=params[which].array.dtype)
            one_hot[k - offsets[which]] = 1
            outputs = [grads[which]]
            vectors = [Tensor._make(one_hot.reshape(params[which].array.shape))]
            row = grad(outputs, params, vectors, retain_graph=True, allow_unused=True,
                       materialize_grads=True)
            hessian[k] = xp.concatenate([r.array.ravel() for r in row])
        return hessian
