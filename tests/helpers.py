"""The one shared helper for testing ops against PyTorch (the oracle).

``check(gl_fn, torch_fn, *inputs)`` runs both functions on copies of the same
float64 inputs, compares the outputs, then backpropagates the same random
upstream gradient through both and compares every input's gradient.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

import gradlab

TOL = 1e-10


def randn(*shape: int, seed: int = 0, low: float | None = None) -> np.ndarray:
    """Random float64 array; with ``low`` set, values are shifted to stay
    above it (for log, sqrt, ...)."""
    a = np.random.default_rng(seed).standard_normal(shape)
    if low is not None:
        a = np.abs(a) + low
    return np.asarray(a)  # NumPy gives a scalar, not a 0-d array, for shape ()


def _flat_outputs(out: Any) -> list:
    if isinstance(out, (tuple, list)):
        return list(out)
    return [out]


def _as_gl(a: Any, grad: bool) -> Any:
    if isinstance(a, np.ndarray):
        return gradlab.tensor(a, requires_grad=grad and a.dtype.kind == "f")
    return a


def _as_torch(a: Any, grad: bool) -> Any:
    if isinstance(a, np.ndarray):
        return torch.tensor(a, requires_grad=grad and a.dtype.kind == "f")
    return a


def assert_close(actual: Any, expected: Any, atol: float = TOL, rtol: float = TOL,
                 what: str = "value") -> None:
    a = np.asarray(actual.detach().numpy() if isinstance(actual, gradlab.Tensor) else actual)
    e = expected.detach().numpy() if isinstance(expected, torch.Tensor) else np.asarray(expected)
    assert a.shape == e.shape, f"{what}: shape {a.shape} != expected {e.shape}"
    if e.dtype.kind in "biu":
        np.testing.assert_array_equal(a, e, err_msg=what)
    else:
        np.testing.assert_allclose(a, e, atol=atol, rtol=rtol, err_msg=what, equal_nan=True)


def check(gl_fn: Callable, torch_fn: Callable, *inputs: Any, grad: bool = True,
          atol: float = TOL, rtol: float = TOL, seed: int = 1) -> None:
    """Forward and gradients of ``gl_fn`` and ``torch_fn`` agree on ``inputs``
    (NumPy arrays become tensors; float arrays require grad)."""
    gl_in = [_as_gl(a, grad) for a in inputs]
    th_in = [_as_torch(a, grad) for a in inputs]
    gl_out = _flat_outputs(gl_fn(*gl_in))
    th_out = _flat_outputs(torch_fn(*th_in))
    assert len(gl_out) == len(th_out), "different number of outputs"
    for i, (g, t) in enumerate(zip(gl_out, th_out)):
        assert str(g.dtype) == str(t.dtype).removeprefix("torch."), (
            f"output {i}: dtype {g.dtype} != {t.dtype}")
        assert_close(g, t, atol, rtol, what=f"output {i}")
    if not grad:
        return
    rng = np.random.default_rng(seed)
    gl_terms, th_terms = [], []
    for g, t in zip(gl_out, th_out):
        if t.requires_grad:
            assert g.requires_grad, "gradlab output does not require grad"
            up = rng.standard_normal(tuple(t.shape))
            gl_terms.append((g * gradlab.tensor(up, dtype=g.dtype)).sum())
            th_terms.append((t * torch.tensor(up, dtype=t.dtype)).sum())
    if not th_terms:
        return
    sum(th_terms).backward()
    sum(gl_terms).backward()
    for i, (g, t) in enumerate(zip(gl_in, th_in)):
        if isinstance(t, torch.Tensor) and t.requires_grad:
            if t.grad is None:
                assert g.grad is None or not np.any(g.grad.numpy()), f"input {i}: spurious grad"
                continue
            assert g.grad is not None, f"input {i}: no gradient"
            assert_close(g.grad, t.grad, atol, rtol, what=f"gradient of input {i}")


def gradchecks(fn: Callable, *inputs: Any, atol: float = 1e-6, rtol: float = 1e-4) -> None:
    """gradcheck and gradgradcheck of ``fn`` on float64 tensors made from
    ``inputs`` (float arrays require grad)."""
    ts = [_as_gl(a, True) for a in inputs]
    assert gradlab.autograd.gradcheck(fn, ts, atol=atol, rtol=rtol)
    assert gradlab.autograd.gradgradcheck(fn, ts, atol=atol, rtol=rtol)
