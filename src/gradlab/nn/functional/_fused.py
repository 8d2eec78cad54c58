"""What every fused node (one graph node computed by kernels) shares: when
its backward is itself recorded (``create_graph=True``), it differentiates
the composed form, built from Tensor ops, so that higher derivatives are
right."""

from __future__ import annotations

from collections.abc import Callable

from gradlab.autograd import enable_grad, grad
from gradlab.tensor import Tensor


def recorded_grads(composed: Callable, inputs: tuple, grads: tuple) -> tuple:
    """The gradients of ``composed(*inputs)`` (for the output gradients
    ``grads``) with respect to each Tensor of ``inputs`` that requires grad,
    None for the others, recorded for higher derivatives."""
    with enable_grad():
        wrt = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]
        outs = composed(*inputs)
        found = grad(outs, wrt, grads, create_graph=True, allow_unused=True)
    lookup = dict(zip(map(id, wrt), found))
    return tuple(lookup.get(id(t)) if isinstance(t, Tensor) else None for t in inputs)
