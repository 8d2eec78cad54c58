"""Activation modules and functions against PyTorch, with gradchecks."""

import numpy as np
import pytest
import torch
from nn_twin import module_gradcheck, twin

import gradlab
from gradlab import nn
from gradlab.nn import functional as F
from helpers import check, gradchecks

rng = np.random.default_rng(0)
# include exact zeros and large values, where formulas switch branch or overflow
X = np.concatenate([rng.standard_normal(20) * 3, [0.0, 30.0, -30.0, 100.0, -100.0]]).reshape(5, 5)

PAIRS = [
    (nn.ReLU(), torch.nn.ReLU()), (nn.Sigmoid(), torch.nn.Sigmoid()), (nn.Tanh(), torch.nn.Tanh()),
    (nn.LeakyReLU(), torch.nn.LeakyReLU()), (nn.LeakyReLU(0.2), torch.nn.LeakyReLU(0.2)),
    (nn.ELU(), torch.nn.ELU()), (nn.ELU(0.5), torch.nn.ELU(0.5)), (nn.SELU(), torch.nn.SELU()),
    (nn.SiLU(), torch.nn.SiLU()), (nn.Softplus(), torch.nn.Softplus()),
    (nn.Softplus(2.0, 5.0), torch.nn.Softplus(2.0, 5.0)), (nn.GELU(), torch.nn.GELU()),
    (nn.GELU("tanh"), torch.nn.GELU("tanh")), (nn.Softmax(1), torch.nn.Softmax(1)),
    (nn.LogSoftmax(0), torch.nn.LogSoftmax(0)), (nn.Hardtanh(), torch.nn.Hardtanh()),
    (nn.PReLU(), torch.nn.PReLU()),
]


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: repr(p[0]) if isinstance(p, tuple) else None)
def test_activation_modules(pair):
    twin(*pair, X)


def test_prelu_per_channel():
    gl, th = nn.PReLU(3), torch.nn.PReLU(3)
    with torch.no_grad():
        th.weight.copy_(torch.tensor([0.1, -0.5, 2.0]))
    twin(gl, th, rng.standard_normal((2, 3, 4)))


def test_swish_with_fixed_and_learnable_beta():
    x = rng.standard_normal((3, 4))
    check(lambda x: F.silu(x, beta=1.7), lambda x: x * torch.sigmoid(1.7 * x), x)
    m = nn.Swish(beta=0.5, learnable_beta=True).double()
    assert [n for n, _ in m.named_parameters()] == ["beta"]
    gx = gradlab.tensor(x, requires_grad=True)
    m(gx).sum().backward()
    tx, tb = torch.tensor(x, requires_grad=True), torch.tensor([0.5], dtype=torch.float64, requires_grad=True)
    (tx * torch.sigmoid(tb * tx)).sum().backward()
    np.testing.assert_allclose(m.beta.grad.numpy(), tb.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=1e-10)


@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh", "leaky_relu", "elu", "selu", "silu", "softplus",
                                  "gelu", "relu6", "hardtanh"])
def test_functional_matches_torch(name):
    check(getattr(F, name), getattr(torch.nn.functional, name), X)


def test_softmax_default_dim_and_dtype():
    check(lambda x: F.softmax(x, -1), lambda x: torch.softmax(x, -1), X)
    check(lambda x: F.log_softmax(x, 0), lambda x: torch.log_softmax(x, 0), X)


@pytest.mark.parametrize("module", [nn.Sigmoid(), nn.Tanh(), nn.ELU(), nn.SELU(), nn.SiLU(), nn.Softplus(),
                                    nn.GELU(), nn.GELU("tanh"), nn.LogSoftmax(1), nn.Softmax(1),
                                    nn.LeakyReLU(0.1), nn.PReLU(2), nn.Swish(learnable_beta=True)])
def test_gradcheck(module):
    x = rng.standard_normal((3, 2)) + 0.1  # away from the kinks at 0
    module_gradcheck(module, x)


def test_functional_gradchecks_away_from_kinks():
    gradchecks(lambda x: F.softplus(x, beta=2.0, threshold=3.0), rng.standard_normal(6) + 0.05)
    gradchecks(lambda x: F.gelu(x), rng.standard_normal(6))
