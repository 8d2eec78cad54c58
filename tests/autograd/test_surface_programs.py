"""Typical lines of PyTorch user code for each item of issue 17, run with
only the import switched (``for mod in (torch, gradlab)``) and compared."""

import numpy as np
import pytest
import torch

import gradlab

MODS = (torch, gradlab)


def _np(t):
    return t.detach().numpy()


def _run(program):
    """The program's outputs under gradlab and under PyTorch (ours, theirs)."""
    return program(gradlab), program(torch)


def test_item2_sampling_the_next_token():
    def program(mod):
        gen = mod.Generator().manual_seed(0)
        logits = mod.tensor([[2.0, 1.0, 0.1, -1.0]] * 3)
        probs = mod.softmax(logits / 0.8, dim=-1)
        nxt = mod.multinomial(probs, num_samples=1, generator=gen)
        idx = mod.multinomial(probs[0], 2, replacement=False)
        return tuple(nxt.shape), str(nxt.dtype).split(".")[-1], len(set(idx.tolist())), \
            bool(((nxt >= 0) & (nxt < 4)).all())

    ours, theirs = _run(program)
    assert ours == theirs == ((3, 1), "int64", 2, True)


def test_item3_logging_a_loss():
    def program(mod):
        x = mod.tensor(np.linspace(-1, 1, 12).reshape(4, 3))
        w = mod.tensor([0.5, -0.25, 2.0], dtype=mod.float64, requires_grad=True)
        loss = ((x @ w) ** 2).mean()
        acc = (x.argmax(1) == 2).float().mean()
        return f"epoch 1 | loss {loss:.4f} | acc {acc:.2%} | w0 {w[0]:+.3f} | {'{:.2e}'.format(loss)}"  # noqa: UP032 - the str.format idiom is under test

    ours, theirs = _run(program)
    assert ours == theirs


def test_item4_device_agnostic_setup():
    def program(mod):
        mod.backends.cudnn.benchmark = True
        mod.backends.cudnn.deterministic = True
        device = mod.device("cuda" if mod.cuda.is_available() else "cpu")
        if hasattr(mod, "accelerator") and mod.accelerator.is_available():
            device = mod.accelerator.current_accelerator()
        x = mod.ones(2, 2).to(device)
        with mod.inference_mode():
            y = (x * 2).sum()
        mod.backends.cudnn.benchmark = False
        mod.backends.cudnn.deterministic = False
        return str(device), x.is_cuda, y.requires_grad, float(y)

    ours, theirs = _run(program)
    if not gradlab.cuda.is_available():
        assert ours == theirs == ("cpu", False, False, 8.0)


def test_item6_causal_attention_with_einsum_tril_masked_fill():
    q0, k0, v0 = (np.random.default_rng(i).standard_normal((2, 5, 4)) for i in range(3))

    def program(mod):
        q, k, v = (mod.tensor(a, requires_grad=True) for a in (q0, k0, v0))
        att = mod.einsum("btd,bsd->bts", q, k) / 2.0
        mask = mod.tril(mod.ones(5, 5)) == 0
        att = att.masked_fill(mask, float("-inf")).softmax(-1)
        out = mod.einsum("bts,bsd->btd", att, v)
        loss = out.norm() + out.sum(-1).cumsum(-1).prod(-1).sum()
        loss.backward()
        return [_np(out), _np(q.grad), _np(k.grad), _np(v.grad)]

    ours, theirs = _run(program)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_item6_topk_accuracy_and_retrieval():
    logits0 = np.random.default_rng(3).standard_normal((8, 10))
    targets0 = np.array([0, 1, 2, 3, 4, 5, 6, 7])

    def program(mod):
        logits, targets = mod.tensor(logits0), mod.tensor(targets0)
        _, pred = logits.topk(3, dim=1, largest=True, sorted=True)
        correct = pred.eq(targets.view(-1, 1).expand_as(pred))
        top3 = correct.float().sum().item() / targets.size(0)
        emb = logits[:, :4]
        sims = mod.nn.functional.cosine_similarity(emb.unsqueeze(1), emb.unsqueeze(0), dim=-1)
        nearest = sims.fill_diagonal_(-2).argmax(1) if hasattr(sims, "fill_diagonal_") \
            else (sims - 3 * mod.eye(8, dtype=sims.dtype)).argmax(1)
        dists = mod.cdist(emb, emb)
        order = mod.argsort(dists[0])
        return [top3, _np(nearest), _np(dists), _np(order), _np(mod.sort(emb[0], descending=True).values)]

    ours, theirs = _run(program)
    assert ours[0] == theirs[0]
    for a, b in zip(ours[1:], theirs[1:]):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_item6_returns_onehots_and_counts():
    rewards0 = np.array([1.0, 0.0, 0.5, 2.0])
    labels0 = np.array([2, 0, 2, 1, 2])

    def program(mod):
        rewards = mod.tensor(rewards0)
        discounts = mod.cumprod(mod.full((4,), 0.9, dtype=mod.float64), 0) / 0.9
        returns = mod.flip(mod.cumsum(mod.flip(rewards * discounts, [0]), 0), [0])
        labels = mod.tensor(labels0)
        onehot = mod.zeros(5, 3).scatter_(1, labels.unsqueeze(1), 1.0)
        values, counts = mod.unique(labels, return_counts=True)
        hist = mod.histc(labels.double(), bins=3, min=0, max=2)
        per_class = mod.zeros(3, dtype=mod.float64).index_add_(0, labels, mod.arange(5.0).double())
        x = mod.arange(12.0).view(3, 4)
        shifted = mod.roll(x, 1, 1).narrow(0, 1, 2)
        band = mod.triu(x[:, :3]) - mod.diag(mod.diag(x))
        reps = mod.repeat_interleave(mod.tensor([1, 2]), 2)
        norms = [x.norm(p=p).item() for p in (1, 2, float("inf"))]
        return [_np(returns), _np(onehot), _np(values), _np(counts), _np(hist), _np(per_class),
                _np(shifted), _np(band), _np(reps), norms, x.log10()[1, 1].item(), x.log2()[2, 3].item(),
                mod.addmm(mod.ones(3), mod.eye(3), x[:, :3]).sum().item()]

    ours, theirs = _run(program)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_item6_sizes_strides_and_legacy_types():
    def program(mod):
        x = mod.FloatTensor(4, 3)
        ids = mod.LongTensor([3, 1, 2])
        y = mod.zeros(x.size()).type_as(mod.DoubleTensor([1.0]))
        z = y.new_ones(y.shape[0], 2)
        n = mod.Size([4, 3]).numel()
        assert isinstance(x, mod.FloatTensor) and isinstance(ids, mod.LongTensor)
        normal = mod.normal(mod.zeros(3, 2), 1.0)
        return (tuple(x.shape), x.shape[1:] + (5,), x.nelement(), str(y.dtype).split(".")[-1],
                tuple(z.shape), n, x.t().stride(), tuple(normal.shape), mod.bernoulli(mod.ones(2)).tolist())

    ours, theirs = _run(program)
    assert ours == theirs


def test_item7_reproducible_runs_with_a_generator_and_rnn_boilerplate():
    def program(mod):
        def draws(seed):
            g = mod.Generator().manual_seed(seed)
            return [mod.rand(2, generator=g), mod.randn(2, generator=g), mod.randint(0, 9, (2,), generator=g),
                    mod.randperm(4, generator=g), mod.normal(0.0, 1.0, (2,), generator=g),
                    mod.bernoulli(mod.full((3,), 0.5), generator=g),
                    mod.multinomial(mod.ones(4), 2, generator=g), mod.empty(2).uniform_(generator=g),
                    mod.empty(2).normal_(generator=g)]

        same = all(a.equal(b) for a, b in zip(draws(1), draws(1)))
        rnn = mod.nn.LSTM(3, 4, batch_first=True)
        rnn.flatten_parameters()
        out, _ = rnn(mod.zeros(2, 5, 3))
        return same, tuple(out.shape), hasattr(mod.nn, "DataParallel")

    ours, theirs = _run(program)
    assert ours[:2] == theirs[:2] == (True, (2, 5, 4))
    assert theirs[2] and not ours[2]  # gradlab says what to use instead


@pytest.mark.parametrize("mod", MODS, ids=["torch", "gradlab"])
def test_item7_version_is_each_librarys_own(mod):
    assert mod.__version__.split(".")[0].isdigit()
    assert (mod.__version__ == "0.1.0") == (mod is gradlab)
