"""Sampling of issue 17: multinomial, normal (every overload), bernoulli,
and ``generator=`` on every random factory. Random numbers cannot match
PyTorch's bit for bit: distributions are tested statistically with fixed
seeds (bounds of 5 standard errors), errors and gradients against PyTorch."""

import math

import numpy as np
import pytest
import torch

import gradlab

WEIGHTS = [1.0, 2.0, 3.0, 0.0, 4.0]


def _frequencies(samples: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(samples.reshape(-1), minlength=n) / samples.size


def test_multinomial_with_replacement_follows_the_weights():
    g = gradlab.Generator().manual_seed(0)
    w = gradlab.tensor(WEIGHTS, dtype=gradlab.float64)
    out = gradlab.multinomial(w, 40000, replacement=True, generator=g)
    assert out.dtype == gradlab.int64 and out.shape == (40000,)
    p = np.array(WEIGHTS) / sum(WEIGHTS)
    freq = _frequencies(out.numpy(), 5)
    assert freq[3] == 0  # a zero weight is never drawn
    np.testing.assert_array_less(np.abs(freq - p), 5 * np.sqrt(p * (1 - p) / 40000) + 1e-12)


def test_multinomial_without_replacement_draws_one_at_a_time():
    rows = 20000
    w = gradlab.tensor([WEIGHTS] * rows, dtype=gradlab.float64)
    out = w.multinomial(4, generator=gradlab.Generator().manual_seed(1)).numpy()
    assert out.shape == (rows, 4)
    assert all(len(set(r)) == 4 for r in out[:500]) and (np.sort(out, 1) == [0, 1, 2, 4]).all()
    p = np.array(WEIGHTS) / sum(WEIGHTS)
    # first draw ~ p; second draw: P(j) = sum_i p_i p_j / (1 - p_i), i != j
    second = np.array([sum(p[i] * p[j] / (1 - p[i]) for i in range(5) if i != j) for j in range(5)])
    for expected, got in ((p, _frequencies(out[:, 0], 5)), (second, _frequencies(out[:, 1], 5))):
        np.testing.assert_array_less(np.abs(got - expected),
                                     5 * np.sqrt(expected * (1 - expected) / rows) + 1e-12)
    # the same statistics as PyTorch's sampler
    torch.manual_seed(0)
    th = torch.multinomial(torch.tensor([WEIGHTS] * rows), 4).numpy()
    np.testing.assert_array_less(np.abs(_frequencies(th[:, 1], 5) - second),
                                 5 * np.sqrt(second * (1 - second) / rows) + 1e-12)


def test_multinomial_generator_reproduces_and_default_generator_is_seeded():
    w = gradlab.tensor([[0.2, 0.8], [0.5, 0.5]])
    a = gradlab.multinomial(w, 6, True, generator=gradlab.Generator().manual_seed(3))
    b = gradlab.multinomial(w, 6, True, generator=gradlab.Generator().manual_seed(3))
    assert a.shape == (2, 6) and a.equal(b)
    gradlab.manual_seed(5)
    c = gradlab.multinomial(w, 6, True)
    gradlab.manual_seed(5)
    assert c.equal(gradlab.multinomial(w, 6, True))


BAD = [
    ("negative", lambda m: (m.tensor([0.5, -0.1]), 1, False)),
    ("inf", lambda m: (m.tensor([0.5, math.inf]), 1, False)),
    ("nan", lambda m: (m.tensor([0.5, math.nan]), 1, True)),
    ("sum zero", lambda m: (m.tensor([0.0, 0.0]), 1, True)),
    ("3-d", lambda m: (m.ones(2, 2, 2), 1, True)),
    ("too many without replacement", lambda m: (m.ones(3), 4, False)),
    ("integer weights", lambda m: (m.tensor([1, 2]), 1, True)),
    ("zero samples", lambda m: (m.ones(3), 0, True)),
]


@pytest.mark.parametrize("case", BAD, ids=[b[0] for b in BAD])
def test_multinomial_refuses_what_pytorch_refuses(case):
    _, args = case
    with pytest.raises(RuntimeError):
        torch.multinomial(*args(torch))
    with pytest.raises(RuntimeError, match="multinomial"):
        gradlab.multinomial(*args(gradlab))


def test_multinomial_takes_zero_weights_last_when_the_others_run_out():
    for w in ([1.0, 0.0, 0.0], [0.0, 3.0, 0.0, 1.0]):
        ours = gradlab.multinomial(gradlab.tensor(w), len(w)).tolist()
        theirs = torch.multinomial(torch.tensor(w), len(w)).tolist()
        assert sorted(ours[-2:]) == sorted(theirs[-2:]) == [i for i, v in enumerate(w) if v == 0]


def test_normal_overloads_shapes_and_dtypes():
    g = gradlab.Generator().manual_seed(0)
    m64 = gradlab.zeros(3, dtype=gradlab.float64)
    cases = [
        (gradlab.normal(m64, gradlab.ones(3, dtype=gradlab.float64), generator=g),
         torch.normal(torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64))),
        (gradlab.normal(m64, 2.0, generator=g), torch.normal(torch.zeros(3, dtype=torch.float64), 2.0)),
        (gradlab.normal(1.0, gradlab.ones(2, 3), generator=g), torch.normal(1.0, torch.ones(2, 3))),
        (gradlab.normal(0.0, 1.0, (4, 2), generator=g), torch.normal(0.0, 1.0, (4, 2))),
        (gradlab.normal(0.0, 1.0, size=(2,), dtype=gradlab.float64, generator=g),
         torch.normal(0.0, 1.0, size=(2,), dtype=torch.float64)),
        (gradlab.normal(gradlab.zeros(2, 1), gradlab.ones(1, 3), generator=g),
         torch.normal(torch.zeros(2, 1), torch.ones(1, 3))),
    ]
    for ours, theirs in cases:
        assert tuple(ours.shape) == tuple(theirs.shape)
        assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")


def test_normal_moments_and_generator():
    a = gradlab.normal(2.0, 3.0, (100000,), generator=gradlab.Generator().manual_seed(7)).numpy()
    assert abs(a.mean() - 2.0) < 5 * 3.0 / math.sqrt(a.size)
    assert abs(a.std() - 3.0) < 5 * 3.0 / math.sqrt(2 * a.size)
    b = gradlab.normal(2.0, 3.0, (100000,), generator=gradlab.Generator().manual_seed(7)).numpy()
    np.testing.assert_array_equal(a, b)
    mean = gradlab.tensor([-5.0, 0.0, 5.0], dtype=gradlab.float64).expand(20000, 3)
    c = gradlab.normal(mean, gradlab.tensor([0.1, 1.0, 2.0], dtype=gradlab.float64)).numpy()
    np.testing.assert_array_less(np.abs(c.mean(0) - [-5, 0, 5]), 5 * np.array([0.1, 1, 2]) / math.sqrt(20000))


def test_normal_requires_grad_and_gradients_as_pytorch():
    outs = {}
    for mod in (torch, gradlab):
        mean = mod.zeros(3, dtype=mod.float64, requires_grad=True)
        std = mod.ones(3, dtype=mod.float64, requires_grad=True)
        out = mod.normal(mean, std)
        out.sum().backward()
        outs[mod.__name__] = (out.requires_grad, mean.grad.tolist(), std.grad.tolist())
        leaf = mod.normal(0.0, 1.0, (2,), requires_grad=True)
        assert leaf.requires_grad and leaf.is_leaf
    assert outs["gradlab"] == outs["torch"] == (True, [0.0] * 3, [0.0] * 3)


def test_normal_errors():
    for mod in (torch, gradlab):
        with pytest.raises(RuntimeError, match="std"):
            mod.normal(0.0, -1.0, (2,))
        with pytest.raises(RuntimeError, match="std"):
            mod.normal(mod.zeros(2), mod.tensor([1.0, -1.0]))


def test_bernoulli():
    p = gradlab.tensor([0.0, 0.2, 0.9, 1.0], dtype=gradlab.float64).expand(50000, 4)
    out = gradlab.bernoulli(p, generator=gradlab.Generator().manual_seed(0))
    assert out.dtype == gradlab.float64 and out.shape == (50000, 4)
    freq = out.numpy().mean(0)
    assert freq[0] == 0.0 and freq[3] == 1.0
    assert abs(freq[1] - 0.2) < 5 * math.sqrt(0.16 / 50000)
    assert abs(freq[2] - 0.9) < 5 * math.sqrt(0.09 / 50000)
    q = gradlab.zeros(50000).bernoulli(0.3, generator=gradlab.Generator().manual_seed(1))
    assert abs(float(q.mean()) - 0.3) < 5 * math.sqrt(0.21 / 50000)
    with gradlab.no_grad():
        z = gradlab.zeros(50000).bernoulli_(0.7)
    assert abs(float(z.mean()) - 0.7) < 5 * math.sqrt(0.21 / 50000)
    for mod in (torch, gradlab):
        with pytest.raises(RuntimeError):
            mod.bernoulli(mod.tensor([0.5, 1.5]))
        w = mod.full((3,), 0.5, requires_grad=True)
        s = mod.bernoulli(w)
        s.sum().backward()
        assert s.requires_grad and w.grad.tolist() == [0.0] * 3


FACTORIES = [
    lambda g: gradlab.rand(3, generator=g),
    lambda g: gradlab.randn(3, generator=g),
    lambda g: gradlab.randint(0, 100, (3,), generator=g),
    lambda g: gradlab.randperm(10, generator=g),
    lambda g: gradlab.normal(0.0, 1.0, (3,), generator=g),
    lambda g: gradlab.normal(gradlab.zeros(3), 1.0, generator=g),
    lambda g: gradlab.bernoulli(gradlab.full((20,), 0.5), generator=g),
    lambda g: gradlab.multinomial(gradlab.ones(10), 5, generator=g),
    lambda g: gradlab.rand_like(gradlab.zeros(3), generator=g),
    lambda g: gradlab.randn_like(gradlab.zeros(3), generator=g),
    lambda g: gradlab.randint_like(gradlab.zeros(3), 0, 100, generator=g),
    lambda g: gradlab.empty(3).uniform_(generator=g),
    lambda g: gradlab.empty(3).normal_(generator=g),
    lambda g: gradlab.empty(20).bernoulli_(0.5, generator=g),
]


@pytest.mark.parametrize("factory", FACTORIES)
def test_every_random_factory_takes_a_generator(factory):
    gradlab.manual_seed(0)
    a = factory(gradlab.Generator().manual_seed(11))
    gradlab.manual_seed(1)  # the default generator plays no part
    b = factory(gradlab.Generator().manual_seed(11))
    c = factory(gradlab.Generator().manual_seed(12))
    assert a.equal(b)
    assert not a.equal(c)
    with pytest.raises(TypeError, match="generator"):
        factory(np.random.default_rng(0))
