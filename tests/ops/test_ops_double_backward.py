"""Second derivatives against PyTorch to float64 precision: for a random
upstream gradient u and direction v, the gradient of <grad_x <f(x), u>, v>
with respect to x (and u), with the first backward recorded by
``create_graph=True``. gradgradcheck checks the same thing by finite
differences to ~1e-6; this pins it to ~1e-10 and to PyTorch's choices at
ties and kinks. (At a zero base PyTorch's second derivative of a ** b with
respect to b is nan; gradlab's is finite, so that case is left out.)"""

import numpy as np
import pytest
import torch

import gradlab
from helpers import assert_close, randn


def check_double(fn_gl, fn_th, *arrays, atol=1e-10):
    rng = np.random.default_rng(0)
    gl_x = [gradlab.tensor(a, requires_grad=True) for a in arrays]
    th_x = [torch.tensor(a, requires_grad=True) for a in arrays]
    gl_out, th_out = fn_gl(*gl_x), fn_th(*th_x)
    u = rng.standard_normal(tuple(th_out.shape))
    gl_u = gradlab.tensor(u, requires_grad=True)
    th_u = torch.tensor(u, requires_grad=True)
    gl_g = gradlab.autograd.grad([gl_out], gl_x, [gl_u], create_graph=True)
    th_g = torch.autograd.grad([th_out], th_x, [th_u], create_graph=True)
    for g, t in zip(gl_g, th_g):
        assert_close(g, t, atol, atol, what="first derivative")
    vs = [rng.standard_normal(a.shape) for a in arrays]
    gl_s = sum((g * gradlab.tensor(v)).sum() for g, v in zip(gl_g, vs))
    th_s = sum((g * torch.tensor(v)).sum() for g, v in zip(th_g, vs))
    th_second = torch.autograd.grad([th_s], th_x + [th_u], allow_unused=True)
    gl_second = gradlab.autograd.grad([gl_s], gl_x + [gl_u], allow_unused=True)
    for i, (g, t) in enumerate(zip(gl_second, th_second)):
        if t is None:
            assert g is None or not np.any(g.numpy()), f"input {i}: spurious second derivative"
            continue
        assert g is not None, f"input {i}: missing second derivative"
        assert_close(g, t, atol, atol, what=f"second derivative wrt input {i}")


def torch_or_gl(t):
    return gradlab if isinstance(t, gradlab.Tensor) else torch


A = randn(3, 4, seed=1)
B = randn(4, seed=2)
P = randn(3, 4, seed=3, low=0.5)
KINKS = np.array([[0.0, -1.0, 2.0, 0.0], [1.0, 1.0, -0.5, 3.0], [0.0, 0.5, -2.0, 2.0]])

CASES = {
    "mul": (lambda a, b: a * b, A, B),
    "div": (lambda a, b: a / b, A, np.abs(B) + 0.5),
    "pow tensor": (lambda a, b: a ** b, P, B),
    "pow scalar 3": (lambda a: a ** 3, A),
    "pow scalar -0.5": (lambda a: a ** -0.5, P),
    "rpow": (lambda a: 1.7 ** a, A),
    "exp": (lambda a: a.exp(), A),
    "log": (lambda a: a.log(), P),
    "log1p": (lambda a: a.log1p(), P),
    "expm1": (lambda a: a.expm1(), A),
    "sqrt": (lambda a: a.sqrt(), P),
    "rsqrt": (lambda a: a.rsqrt(), P),
    "reciprocal": (lambda a: a.reciprocal(), P),
    "sin": (lambda a: a.sin(), A),
    "cos": (lambda a: a.cos(), A),
    "tanh": (lambda a: a.tanh(), A),
    "sigmoid": (lambda a: a.sigmoid(), A),
    "erf": (lambda a: a.erf(), A),
    "abs at kinks": (lambda a: a.abs() * a, KINKS),
    "relu at kinks": (lambda a: a.relu() * a, KINKS),
    "clamp at bounds": (lambda a: a.clamp(-0.5, 2.0) * a, KINKS),
    "maximum ties": (lambda a, b: a.maximum(b) * a, KINKS, np.ones(4)),
    "minimum ties": (lambda a, b: a.minimum(b) * b, KINKS, np.ones(4)),
    "where": (lambda a, b: torch_or_gl(a).where(a > 0, a * b, b * b), A, B),
    "sum of squares": (lambda a: (a * a).sum(1), A),
    "mean": (lambda a: (a * a).mean(0), A),
    "var": (lambda a: a.var(1), A),
    "std": (lambda a: a.std(0), A),
    "amax ties": (lambda a: (a * a).amax(1), KINKS),
    "max dim": (lambda a: (a * a).max(0).values, A),
    "logsumexp": (lambda a: a.logsumexp(1), A),
    "softmax": (lambda a: a.softmax(-1), A),
    "log_softmax": (lambda a: a.log_softmax(0), A),
    "matmul": (lambda a, b: (a @ b) ** 2, A, B),
    "batched matmul": (lambda a, b: (a @ b).tanh(), randn(2, 1, 3, 4, seed=4), randn(3, 4, 2, seed=5)),
    "batched @ matrix": (lambda a, b: (a.transpose(0, 1) @ b).tanh(), randn(3, 2, 4, seed=6),
                         randn(4, 5, seed=7)),
    "long contraction into few rows": (lambda a, b: (a @ b).tanh(), randn(2, 3, seed=8),
                                       randn(3, 16, seed=9)),
    "getitem repeats": (lambda a: a[[0, 0, 2]] ** 2, A),
    "gather": (lambda a: a.gather(1, torch_or_gl(a).tensor([[0, 0], [3, 1], [2, 2]])) ** 3, A),
    "cat and stack": (lambda a, b: torch_or_gl(a).stack([a, a * a]).sum(0) * b, A, B),
    "expand/reshape/permute": (lambda a: (a.reshape(2, 6).permute(1, 0).expand(3, 6, 2)) ** 2, A),
    "pad": (lambda a: gradlab.pad(a * a, (1, 1)) if isinstance(a, gradlab.Tensor)
            else torch.nn.functional.pad(a * a, (1, 1)), A),
}


@pytest.mark.parametrize("name", CASES)
def test_second_derivatives_match_torch(name):
    fn, *arrays = CASES[name]
    check_double(fn, fn, *arrays)
