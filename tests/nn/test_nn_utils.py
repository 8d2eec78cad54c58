"""Gradient clipping and parameter vectors against PyTorch."""

import numpy as np
import pytest
import torch

import gradlab
from gradlab import nn
from gradlab.nn import utils

rng = np.random.default_rng(0)


def _params(n=3):
    arrays = [rng.standard_normal(s) for s in [(3, 2), (4,), (2, 2, 2)][:n]]
    grads = [rng.standard_normal(a.shape) * 3 for a in arrays]
    gl = [nn.Parameter(gradlab.tensor(a)) for a in arrays]
    th = [torch.nn.Parameter(torch.tensor(a)) for a in arrays]
    for p, q, g in zip(gl, th, grads):
        p.grad, q.grad = gradlab.tensor(g), torch.tensor(g)
    return gl, th


@pytest.mark.parametrize("max_norm,norm_type", [(1.0, 2.0), (100.0, 2.0), (0.5, 1.0), (2.0, float("inf")),
                                                (1.0, 3)])
def test_clip_grad_norm_matches_torch(max_norm, norm_type):
    gl, th = _params()
    total = utils.clip_grad_norm_(gl, max_norm, norm_type)
    expected = torch.nn.utils.clip_grad_norm_(th, max_norm, norm_type)
    np.testing.assert_allclose(total.item(), expected.item(), rtol=1e-12)
    for p, q in zip(gl, th):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-12)


def test_clip_grad_norm_nonfinite():
    gl, _ = _params(1)
    gl[0].grad.array[0, 0] = np.inf
    with pytest.raises(RuntimeError, match="non-finite"):
        utils.clip_grad_norm_(gl, 1.0, error_if_nonfinite=True)
    total = utils.clip_grad_norm_(gl, 1.0)
    assert np.isinf(total.item())


def test_clip_grad_value():
    gl, th = _params()
    utils.clip_grad_value_(gl, 0.7)
    torch.nn.utils.clip_grad_value_(th, 0.7)
    for p, q in zip(gl, th):
        np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())


def test_parameters_to_vector_and_back():
    gl, th = _params()
    vec = utils.parameters_to_vector(gl)
    expected = torch.nn.utils.parameters_to_vector(th).detach().numpy()
    np.testing.assert_array_equal(vec.detach().numpy(), expected)
    vec.sum().backward()  # differentiable
    new = np.arange(vec.shape[0], dtype=np.float64)
    utils.vector_to_parameters(gradlab.tensor(new), gl)
    torch.nn.utils.vector_to_parameters(torch.tensor(new), th)
    for p, q in zip(gl, th):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
    with pytest.raises(ValueError, match="elements"):
        utils.vector_to_parameters(gradlab.zeros(3), gl)
