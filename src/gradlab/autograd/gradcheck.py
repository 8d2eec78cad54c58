"""Checking backward rules against finite differences.

``gradcheck`` compares the analytical derivative (from backward) with the
central difference

    (f(x + eps v) - f(x - eps v)) / (2 eps) = J v + O(eps^2)

along random directions: for a random cotangent u and a random direction v
it compares u^T J v computed both ways, which costs two evaluations of f per
input whatever the input's size (chainer's ``check_backward`` does the
same). If a direction disagrees, it builds both Jacobians element by element
to name the worst element and both values. ``gradgradcheck`` applies the
same test to the function x -> u^T J(x), checking the backward of backward.

Use float64 inputs: in float32 the rounding error of the difference
quotient swamps the tolerance.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from gradlab.autograd.engine import grad
from gradlab.autograd.grad_mode import enable_grad, no_grad
from gradlab.backend import CPU, array_module, to_device
from gradlab.tensor import Tensor

__all__ = ["GradcheckError", "gradcheck", "gradgradcheck"]


class GradcheckError(RuntimeError):
    """Raised by gradcheck when analytical and numerical derivatives differ."""


def _outputs(func: Callable, inputs: tuple) -> tuple[Tensor, ...]:
    out = func(*inputs)
    outs = out if isinstance(out, (tuple, list)) else (out,)
    return tuple(o for o in outs if isinstance(o, Tensor) and o.is_floating_point())


def _host(t: Tensor) -> np.ndarray:
    # a copy: an output may be a view of an input (expand, reshape) that
    # the finite differences are about to change in place
    return np.array(to_device(t.array, CPU), dtype=np.float64)


def _analytic_vjp(func: Callable, inputs: tuple, positions: list, us: tuple) -> list:
    """u^T J for each differentiable input (zeros where unused)."""
    with enable_grad():
        outs = _outputs(func, inputs)
        live = [(o, u) for o, u in zip(outs, us) if o.requires_grad]
        targets = [inputs[p] for p in positions]
        if live:
            found = grad([o for o, _ in live], targets, [u for _, u in live],
                         allow_unused=True)
        else:
            found = [None] * len(targets)
    return [np.zeros(t.shape) if g is None else _host(g) for g, t in zip(found, targets)]


def _numeric_directional(func: Callable, inputs: tuple, x: Tensor, v: np.ndarray,
                         eps: float) -> list[np.ndarray]:
    """(f(x + eps v) - f(x - eps v)) / 2 eps, per output."""
    xp = array_module(x.array)
    saved = x.array.copy()
    step = xp.asarray(v * eps, dtype=x.dtype) if xp is not np else (v * eps).astype(x.dtype)
    try:
        with no_grad():
            x.array[...] = saved + step
            plus = [_host(o) for o in _outputs(func, inputs)]
            x.array[...] = saved - step
            minus = [_host(o) for o in _outputs(func, inputs)]
    finally:
        x.array[...] = saved
    return [(p - m) / (2 * eps) for p, m in zip(plus, minus)]


def gradcheck(func: Callable, inputs: Any, *, eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-3, raise_exception: bool = True, n_directions: int = 2,
              seed: int = 0, fast_mode: bool = True, **_ignored: Any) -> bool:
    """Check the gradients of ``func`` at ``inputs`` against finite differences.

    Args:
        func: a function of tensors returning a tensor or tuple of tensors.
        inputs: a tensor or tuple; those with ``requires_grad`` are checked.
        eps: the finite-difference step.
        atol, rtol: a value passes when |numerical - analytical| <= atol +
            rtol * |numerical|.
        raise_exception: raise :class:`GradcheckError` on failure (else
            return False).
        n_directions: random directions tried per input (``fast_mode``).
        seed: seed of the random directions.
        fast_mode: compare along random directions first; ``False`` compares
            full Jacobians element by element.

    Returns:
        True when every derivative matches.
    """
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    positions = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not positions:
        raise ValueError("gradcheck: no input requires grad; nothing to check")
    for i in positions:
        if inputs[i].dtype != np.float64:
            warnings.warn(
                f"gradcheck: input {i} is {inputs[i].dtype}, not float64; expect "
                "spurious failures from rounding", stacklevel=2)
    rng = np.random.default_rng(seed)
    outs = _outputs(func, inputs)
    if not outs:
        raise ValueError("gradcheck: the function returned no floating-point tensor")

    def check(p: int) -> tuple[bool, str]:
        x = inputs[p]
        for _ in range(n_directions if fast_mode else 0):
            us = tuple(Tensor._make(_like(o, rng.standard_normal(o.shape))) for o in outs)
            v = rng.standard_normal(x.shape)
            analytic = float((_analytic_vjp(func, inputs, [p], us)[0] * v).sum())
            numeric_dirs = _numeric_directional(func, inputs, x, v, eps)
            numeric = float(sum((_host(u) * d).sum() for u, d in zip(us, numeric_dirs)))
            if not abs(numeric - analytic) <= atol + rtol * abs(numeric):
                break
        else:
            if fast_mode:
                return True, ""
        return _full_check(func, inputs, p, outs, eps, atol, rtol)

    for p in positions:
        ok, message = check(p)
        if not ok:
            if raise_exception:
                raise GradcheckError(message)
            return False
    return True


def _like(o: Tensor, values: np.ndarray) -> Any:
    return to_device(values.astype(o.dtype), o.device)


def _full_check(func: Callable, inputs: tuple, p: int, outs: tuple, eps: float, atol: float,
                rtol: float) -> tuple[bool, str]:
    """Both Jacobians of all outputs with respect to input ``p``, element by
    element; the worst disagreement is reported."""
    x = inputs[p]
    n_in = x.numel()
    sizes = [o.numel() for o in outs]
    numeric = np.zeros((sum(sizes), n_in))
    for j in range(n_in):
        v = np.zeros(x.shape)
        v.reshape(-1)[j] = 1.0
        cols = _numeric_directional(func, inputs, x, v, eps)
        numeric[:, j] = np.concatenate([c.reshape(-1) for c in cols]) if cols else 0
    analytic = np.zeros_like(numeric)
    row = 0
    for k in range(len(outs)):
        for r in range(sizes[k]):
            us = []
            for kk, oo in enumerate(outs):
                u = np.zeros(oo.shape)
                if kk == k:
                    u.reshape(-1)[r] = 1.0
                us.append(Tensor._make(_like(oo, u)))
            analytic[row] = _analytic_vjp(func, inputs, [p], tuple(us))[0].reshape(-1)
            row += 1
    excess = np.abs(numeric - analytic) - (atol + rtol * np.abs(numeric))
    excess = np.where(np.isnan(excess), np.inf, excess)
    if excess.size == 0 or excess.max() <= 0:
        return True, ""
    r, j = np.unravel_index(int(np.argmax(excess)), excess.shape)
    k = int(np.searchsorted(np.cumsum(sizes), r, side="right"))
    r_local = r - (sum(sizes[:k]))
    in_index = np.unravel_index(j, x.shape) if x.ndim else ()
    out_index = np.unravel_index(r_local, outs[k].shape) if outs[k].ndim else ()
    bad = int((excess > 0).sum())
    return False, (
        f"Jacobian mismatch for output {k} with respect to input {p}: worst at output "
        f"element {tuple(int(i) for i in out_index)}, input element "
        f"{tuple(int(i) for i in in_index)}: numerical {float(numeric[r, j])!r}, analytical "
        f"{float(analytic[r, j])!r} ({bad} of {excess.size} elements outside atol={atol}, rtol={rtol})"
    )


def gradgradcheck(func: Callable, inputs: Any, grad_outputs: Any = None, *, eps: float = 1e-6,
                  atol: float = 1e-5, rtol: float = 1e-3, raise_exception: bool = True,
                  n_directions: int = 2, seed: int = 0, fast_mode: bool = True,
                  **_ignored: Any) -> bool:
    """Check second derivatives: gradcheck of (x, u) -> u^T J(x), the
    backward pass recorded with ``create_graph=True``. ``grad_outputs``
    (random if not given) also get their derivatives checked."""
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    positions = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    outs = _outputs(func, inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(seed + 1)
        grad_outputs = tuple(
            Tensor._make(_like(o, rng.standard_normal(o.shape))).requires_grad_(True)
            for o in outs)
    else:
        grad_outputs = tuple(grad_outputs) if isinstance(grad_outputs, (tuple, list)) \
            else (grad_outputs,)
    n = len(inputs)

    def first_derivative(*args: Any) -> tuple:
        xs, us = args[:n], args[n:]
        with enable_grad():
            fouts = _outputs(func, xs)
            live = [(o, u) for o, u in zip(fouts, us) if o.requires_grad]
            targets = [xs[p] for p in positions]
            found = grad([o for o, _ in live], targets, [u for _, u in live],
                         create_graph=True, allow_unused=True) if live else [None] * len(targets)
        return tuple(g if g is not None else Tensor._make(array_module(t.array).zeros_like(t.array))
                     for g, t in zip(found, targets))

    return gradcheck(first_derivative, inputs + tuple(grad_outputs), eps=eps, atol=atol,
                     rtol=rtol, raise_exception=raise_exception, n_directions=n_directions,
                     seed=seed, fast_mode=fast_mode)
