"""Comparing a gradlab module with its PyTorch twin: copy the PyTorch state
dict (as NumPy arrays) into gradlab, run both in float64 on the same
inputs, and compare outputs and the gradients of the inputs and of every
parameter."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

import gradlab
from helpers import assert_close


def _flat(out: Any) -> list:
    if isinstance(out, (tuple, list)):
        return [leaf for o in out for leaf in _flat(o)]
    return [out]


def copy_state(gl_module: gradlab.nn.Module, th_module: torch.nn.Module) -> None:
    result = gl_module.load_state_dict({k: v.detach().numpy() for k, v in th_module.state_dict().items()})
    assert result.missing_keys == [] and result.unexpected_keys == []


def twin(gl_module: gradlab.nn.Module, th_module: torch.nn.Module, *inputs: Any, train: bool = True,
         seed: int = 0, atol: float = 1e-10, grad: bool = True) -> list:
    """Run both modules on ``inputs`` (NumPy arrays; float ones require grad)
    and compare everything; returns the gradlab outputs."""
    gl_module.double()
    th_module.double()
    copy_state(gl_module, th_module)
    gl_module.train(train)
    th_module.train(train)
    gl_in = [gradlab.tensor(a, requires_grad=grad and a.dtype.kind == "f") if isinstance(a, np.ndarray)
             else a for a in inputs]
    th_in = [torch.tensor(a, requires_grad=grad and a.dtype.kind == "f") if isinstance(a, np.ndarray)
             else a for a in inputs]
    gl_out = _flat(gl_module(*gl_in))
    th_out = _flat(th_module(*th_in))
    assert len(gl_out) == len(th_out)
    for i, (g, t) in enumerate(zip(gl_out, th_out)):
        assert_close(g, t, atol, atol, what=f"output {i}")
    for name, buf in th_module.state_dict().items():
        assert_close(gl_module.state_dict()[name], buf, atol, atol, what=f"state {name}")
    if not grad:
        return gl_out
    rng = np.random.default_rng(seed)
    ups = [rng.standard_normal(tuple(t.shape)) for t in th_out]
    sum((t * torch.tensor(u)).sum() for t, u in zip(th_out, ups) if t.requires_grad).backward()
    sum((g * gradlab.tensor(u)).sum() for g, u in zip(gl_out, ups) if g.requires_grad).backward()
    for i, (g, t) in enumerate(zip(gl_in, th_in)):
        if isinstance(t, torch.Tensor) and t.requires_grad:
            assert_close(g.grad, t.grad, atol, atol, what=f"gradient of input {i}")
    gl_params = dict(gl_module.named_parameters())
    th_params = dict(th_module.named_parameters())
    assert list(gl_params) == list(th_params)
    for name, p in th_params.items():
        if p.grad is None:
            assert gl_params[name].grad is None or not np.any(gl_params[name].grad.numpy())
        else:
            assert_close(gl_params[name].grad, p.grad, atol, atol, what=f"gradient of {name}")
    return gl_out


def module_gradcheck(module: gradlab.nn.Module, *inputs: np.ndarray, double: bool = True) -> None:
    """gradcheck (and gradgradcheck) of a float64 module with respect to its
    float inputs and all of its parameters."""
    module.double()
    xs = [gradlab.tensor(a, requires_grad=a.dtype.kind == "f") for a in inputs]
    params = list(module.parameters())

    def fn(*args: Any) -> Any:
        out = module(*args[:len(xs)])
        return tuple(_flat(out))

    assert gradlab.autograd.gradcheck(fn, (*xs, *params), atol=1e-6, rtol=1e-4)
    if double:
        assert gradlab.autograd.gradgradcheck(fn, (*xs, *params), atol=1e-6, rtol=1e-4)
