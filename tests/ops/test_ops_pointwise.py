"""The pointwise functions of gradlab.ops.pointwise (addcmul, lerp, fmod,
xlogy, ...) against PyTorch in float64: values and gradients, as functions
and as Tensor methods, and their errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gradlab

RNG = np.random.default_rng(7)
X = RNG.uniform(-2, 2, (3, 4))
Y = RNG.uniform(-2, 2, (3, 4))
P = RNG.uniform(0.05, 0.95, (3, 4))      # probabilities, for logit
POS = RNG.uniform(0.5, 2.0, (3, 4))      # positive, away from 0
DIVISOR = np.where(RNG.random((4,)) < 0.5, -1.0, 1.0) * RNG.uniform(0.3, 1.5, (4,))
SPECIAL = np.array([1.5, np.nan, np.inf, -np.inf, -0.25, 3.0])
XZ = np.where(RNG.random((3, 4)) < 0.3, 0.0, X)  # with exact zeros, for xlogy

# name: (function of (lib, *tensors), inputs); every input requires grad
CASES = {
    "addcmul": (lambda L, x, a, b: L.addcmul(x, a, b, value=0.5), (X, Y, POS)),
    "addcmul_default": (lambda L, x, a, b: L.addcmul(x, a, b), (X, Y, POS[0])),
    "addcdiv": (lambda L, x, a, b: L.addcdiv(x, a, b, value=-0.3), (X, Y, POS)),
    "lerp_low": (lambda L, x, e: L.lerp(x, e, 0.3), (X, Y)),
    "lerp_high": (lambda L, x, e: L.lerp(x, e, 0.8), (X, Y)),
    "lerp_tensor": (lambda L, x, e, w: L.lerp(x, e, w), (X, Y, P)),
    "clamp_min": (lambda L, x: L.clamp_min(x, 0.1), (X,)),
    "clamp_max": (lambda L, x: L.clamp_max(x, 0.1), (X,)),
    "clamp_min_tensor": (lambda L, x, m: L.clamp_min(x, m), (X, Y)),
    "frac": (lambda L, x: L.frac(x * 3.3), (X,)),
    "fmod": (lambda L, x, d: L.fmod(x * 3.1, d), (X, DIVISOR)),
    "fmod_number": (lambda L, x: L.fmod(x * 3.1, -0.7), (X,)),
    "remainder": (lambda L, x, d: L.remainder(x * 3.1, d), (X, DIVISOR)),
    "remainder_number": (lambda L, x: L.remainder(x * 3.1, 0.7), (X,)),
    "hypot": (lambda L, x, y: L.hypot(x, y), (X, Y)),
    "logaddexp": (lambda L, x, y: L.logaddexp(x * 30, y), (X, Y)),
    "copysign": (lambda L, x, y: L.copysign(x, y), (X, Y)),
    "copysign_number": (lambda L, x: L.copysign(x, -1.0), (X,)),
    "xlogy": (lambda L, x, y: L.xlogy(x, y), (XZ, POS)),
    "xlogy_number": (lambda L, y: L.xlogy(2.0, y), (POS,)),
    "rsub": (lambda L, x, y: L.rsub(x, y, alpha=2), (X, Y)),
    "rsub_number": (lambda L, x: L.rsub(x, 3.0), (X,)),
    "nan_to_num": (lambda L, x: L.nan_to_num(x), (SPECIAL,)),
    "nan_to_num_values": (lambda L, x: L.nan_to_num(x, nan=1.0, posinf=2.0, neginf=-2.0),
                          (SPECIAL,)),
    "logit": (lambda L, p: L.logit(p), (P,)),
    "logit_eps": (lambda L, x: L.logit(x, eps=0.2), (P,)),
    "true_divide": (lambda L, x, y: L.true_divide(x, y), (X, POS)),
}


def _run(lib, case):
    fn, inputs = CASES[case]
    leaves = [lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in inputs]
    out = fn(lib, *leaves)
    upstream = lib.tensor(np.random.default_rng(1).standard_normal(tuple(out.shape)))
    grads = lib.autograd.grad(out, leaves, upstream, allow_unused=True)
    return out.detach().numpy(), [None if g is None else g.numpy() for g in grads]


@pytest.mark.parametrize("case", sorted(CASES))
def test_values_and_gradients_match_torch(case):
    expected, expected_grads = _run(torch, case)
    actual, actual_grads = _run(gradlab, case)
    np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=1e-12)
    for g, e in zip(actual_grads, expected_grads):
        assert (g is None) == (e is None)
        if e is not None:
            np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-12)


METHODS = ["addcmul", "addcdiv", "lerp", "clamp_min", "clamp_max", "frac", "fmod",
           "remainder", "hypot", "logaddexp", "rsub", "copysign", "nan_to_num", "logit",
           "xlogy", "true_divide"]


@pytest.mark.parametrize("name", METHODS)
def test_method_is_the_function(name):
    x = gradlab.tensor(P)
    args = {"addcmul": (x, x), "addcdiv": (x, x), "lerp": (x, 0.25), "clamp_min": (0.5,),
            "clamp_max": (0.5,), "frac": (), "nan_to_num": (), "logit": ()}.get(name, (x * 2,))
    np.testing.assert_array_equal(getattr(x, name)(*args).numpy(),
                                  getattr(gradlab, name)(x, *args).numpy())


def test_integer_operands_keep_pytorch_dtypes():
    a, b = np.array([7, -7, 5]), np.array([3, 3, -2])
    for name in ("fmod", "remainder"):
        got = getattr(gradlab, name)(gradlab.tensor(a), gradlab.tensor(b))
        want = getattr(torch, name)(torch.tensor(a), torch.tensor(b))
        assert str(got.dtype) == str(want.dtype).replace("torch.", "")
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    for name in ("hypot", "copysign", "xlogy", "logit"):
        args = (gradlab.tensor(a), gradlab.tensor(b))[: 1 if name == "logit" else 2]
        assert getattr(gradlab, name)(*args).dtype == gradlab.float32


@pytest.mark.parametrize("call, match", [
    (lambda L: L.addcdiv(L.ones(2), L.tensor([1, 2]), L.tensor([3, 4])), "Integer division"),
    (lambda L: L.lerp(L.tensor([1, 2]), L.tensor([3, 4]), 0.5), "lerp"),
    (lambda L: L.frac(L.tensor([1, 2])), "frac"),
    (lambda L: L.hypot(L.ones(2), L.ones(3)), "hypot: the shapes"),
])
def test_errors_like_torch(call, match):
    with pytest.raises(RuntimeError):
        call(torch)
    with pytest.raises(RuntimeError, match=match):
        call(gradlab)


def test_logit_eps_must_be_a_probability_margin():
    with pytest.raises(ValueError, match="eps must be None or a number in \\[0, 0.5\\], got 2"):
        gradlab.logit(gradlab.tensor(P), eps=2)


def test_lerp_weight_must_be_a_number_or_tensor():
    with pytest.raises(TypeError, match="weight must be a number or a Tensor, got 'a'"):
        gradlab.lerp(gradlab.ones(2), gradlab.zeros(2), "a")
