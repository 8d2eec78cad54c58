"""gradcheck and gradgradcheck (finite differences in float64 along random
directions) for every differentiable op: the backward rules and the
backward of the backward rules. Inputs are kept away from the points where
an op is not differentiable (0 for abs and relu, ties for max)."""

import numpy as np
import pytest

import gradlab
from helpers import gradchecks, randn

A = randn(3, 4, seed=1)
B = randn(4, 1, seed=2)  # broadcasts against A
P = randn(3, 4, seed=3, low=0.5)  # positive
M = randn(2, 3, 4, seed=4)
IDX = gradlab.tensor(np.array([[0, 2, 1, 0], [2, 2, 0, 1]]))
MASK = gradlab.tensor(A > 0)

CASES = {
    # elementwise binary, with broadcasting
    "add": (lambda a, b: a + b, A, randn(3, 1, 4, seed=5)),
    "sub": (lambda a, b: a - b, A, B[:, 0]),
    "mul": (lambda a, b: a * b, randn(3, 1, 4, seed=6), B),
    "div": (lambda a, b: a / b, A, randn(4, seed=7, low=0.5)),
    "pow tensor": (lambda a, b: a ** b, P, randn(4, seed=8)),
    "pow scalar": (lambda a: a ** 3, A),
    "pow -1.5": (lambda a: a ** -1.5, P),
    "rpow": (lambda a: 2.5 ** a, A),
    "reflected": (lambda a: (2 - a) * (1 / (a + 5)), P),
    "maximum": (gradlab.maximum, A, B[:, 0] + 0.01),
    "minimum": (gradlab.minimum, A, B[:, 0] + 0.01),
    "where": (lambda a, b: gradlab.where(MASK, a, b), A, B[:, 0]),
    "clamp": (lambda a: a.clamp(-0.5, 0.5), A + 0.013),
    "clamp tensor bounds": (lambda a, lo: a.clamp(min=lo), A, B[:, 0] + 0.013),
    # elementwise unary
    "neg": (gradlab.neg, A),
    "exp": (gradlab.exp, A),
    "log": (gradlab.log, P),
    "log1p": (gradlab.log1p, P),
    "expm1": (gradlab.expm1, A),
    "sqrt": (gradlab.sqrt, P),
    "rsqrt": (gradlab.rsqrt, P),
    "square": (gradlab.square, A),
    "reciprocal": (gradlab.reciprocal, P),
    "abs": (gradlab.abs, A),
    "sin": (gradlab.sin, A),
    "cos": (gradlab.cos, A),
    "tanh": (gradlab.tanh, A),
    "sigmoid": (gradlab.sigmoid, A * 3),
    "relu": (gradlab.relu, A),
    "erf": (gradlab.erf, A),
    "floor+ceil+round+trunc": (lambda a: a.floor() + a.ceil() + a.round() + a.trunc() + a, A + 0.25),
    "clone": (gradlab.clone, A),
    # reductions
    "sum": (lambda a: a.sum(), M),
    "sum dims": (lambda a: a.sum((0, -1), keepdim=True), M),
    "mean": (lambda a: a.mean(1), M),
    "var": (lambda a: a.var(-1), M),
    "var correction 0": (lambda a: a.var((0, 2), correction=0, keepdim=True), M),
    "std": (lambda a: a.std(0), M),
    "std all": (lambda a: a.std(), M),
    "amax": (lambda a: a.amax(1), M),
    "amin": (lambda a: a.amin((0, 2)), M),
    "max": (lambda a: a.max(), M),
    "max dim": (lambda a: a.max(-1).values, M),
    "min dim": (lambda a: a.min(0, keepdim=True)[0], M),
    "logsumexp": (lambda a: a.logsumexp(-1), M),
    "softmax": (lambda a: a.softmax(1), M),
    "log_softmax": (lambda a: a.log_softmax(-1), M),
    # movement
    "reshape": (lambda a: a.reshape(4, -1), M),
    "permute": (lambda a: a.permute(2, 0, 1), M),
    "transpose": (lambda a: a.transpose(0, -1), M),
    "flatten": (lambda a: a.flatten(1), M),
    "unflatten": (lambda a: a.unflatten(-1, (2, 2)), M),
    "squeeze/unsqueeze": (lambda a: a.unsqueeze(1).squeeze(1).unsqueeze(-1), M),
    "expand": (lambda a: a.expand(2, 3, 4), B[:, 0]),
    "repeat": (lambda a: a.repeat(2, 1, 2), A),
    "cat": (lambda a, b: gradlab.cat([a, b.T, a], dim=0), A, B),
    "stack": (lambda a, b: gradlab.stack([a, b], dim=-1), A, P),
    "split": (lambda a: a.split([1, 3], dim=1)[1], A),
    "chunk": (lambda a: a.chunk(3, -1)[0] * a.chunk(3, -1)[1], randn(3, 6, seed=9)),
    "unbind": (lambda a: a.unbind(1)[2], A),
    "pad": (lambda a: gradlab.pad(a, (1, 2, 0, 1), value=0.5), A),
    "flip": (lambda a: a.flip((0, 1)), A),
    "T and mT": (lambda a, m: a.T.sum() + m.mT, A, M),
    # products
    "matmul 2-D": (lambda a, b: a @ b, A, randn(4, 2, seed=10)),
    "matmul 1-D 1-D": (lambda a, b: a @ b, randn(4, seed=11), randn(4, seed=12)),
    "matmul 1-D 2-D": (lambda a, b: a @ b, randn(3, seed=13), A),
    "matmul 2-D 1-D": (lambda a, b: a @ b, A, randn(4, seed=14)),
    "matmul batched broadcast": (lambda a, b: a @ b, randn(2, 1, 3, 4, seed=15), randn(3, 4, 2, seed=16)),
    "matmul batched @ matrix": (lambda a, b: a @ b, randn(2, 3, 4, seed=17), randn(4, 2, seed=18)),
    "matmul strided batched @ matrix": (lambda a, b: a.transpose(0, 1) @ b, randn(3, 2, 4, seed=19),
                                        randn(4, 2, seed=20)),
    "matmul long contraction into few rows": (lambda a, b: a @ b, randn(2, 3, seed=21),
                                              randn(3, 16, seed=22)),
    "mm": (gradlab.mm, A, randn(4, 2, seed=17)),
    "bmm": (gradlab.bmm, M, randn(2, 4, 3, seed=18)),
    "dot": (gradlab.dot, randn(4, seed=19), randn(4, seed=20)),
    "outer": (gradlab.outer, randn(3, seed=21), randn(2, seed=22)),
    # indexing
    "getitem basic": (lambda a: a[1:, None, ::2, ...][..., -1], M),
    "getitem advanced repeats": (lambda a: a[[0, 0, 1], :, [3, 3, 0]], M),
    "getitem mask": (lambda a: a[MASK], A),
    "getitem mixed int": (lambda a: a[1, :, [0, 0, 2]], M),
    "gather": (lambda a: a.gather(0, IDX), A),
    "scatter_add": (lambda a, s: a.scatter_add(0, IDX, s), A, randn(2, 4, seed=23)),
    "index_select": (lambda a: a.index_select(1, gradlab.tensor([3, 0, 3])), A),
    "masked_fill": (lambda a: a.masked_fill(MASK, 2.0), A),
}


@pytest.mark.parametrize("name", CASES)
def test_gradcheck_and_gradgradcheck(name):
    fn, *inputs = CASES[name]
    gradchecks(fn, *inputs)


def test_gradcheck_detects_a_wrong_backward():
    # the checker itself must be able to fail, or the grid above proves nothing
    class WrongExp(gradlab.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.exp()

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * x.exp() * 1.001

    with pytest.raises(RuntimeError):
        gradchecks(WrongExp.apply, A)
