"""Reverse-mode automatic differentiation: the engine, grad modes, custom
Functions, functional derivatives and gradient checking."""

from gradlab.autograd import functional
from gradlab.autograd.engine import grad
from gradlab.autograd.function import Function, FunctionCtx, once_differentiable
from gradlab.autograd.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from gradlab.autograd.gradcheck import GradcheckError, gradcheck, gradgradcheck

__all__ = [
    "Function", "FunctionCtx", "GradcheckError", "backward", "enable_grad", "functional",
    "grad", "gradcheck", "gradgradcheck", "is_grad_enabled", "no_grad", "once_differentiable",
    "set_grad_enabled",
]


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False,
             inputs=None) -> None:
    """Accumulate gradients of several outputs at once, as
    ``torch.autograd.backward``: sum_k grad_tensors[k]^T d tensors[k] / d leaf."""
    from gradlab.autograd import engine
    from gradlab.tensor import Tensor

    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    if grad_tensors is None or isinstance(grad_tensors, Tensor):
        grad_tensors = [grad_tensors] * len(tensors)
    roots = [(t, engine._root_gradient(t, g, i))
             for i, (t, g) in enumerate(zip(tensors, grad_tensors))]
    if retain_graph is None:
        retain_graph = create_graph
    if inputs is None:
        engine._run(roots, None, retain_graph, create_graph)
        return
    targets = engine._as_tensors(inputs, "inputs")
    for t, g in zip(targets, engine._run(roots, targets, retain_graph, create_graph)):
        if g is not None:
            engine._accumulate(t, g, create_graph, set())
