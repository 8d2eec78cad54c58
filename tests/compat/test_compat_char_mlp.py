"""A character-level MLP language model on names (Bengio et al. 2003 style):
an embedding table, tanh hidden layer, manual SGD through ``p.data``, and
sampling with ``torch.multinomial``."""

from __future__ import annotations

import pytest
from compat_run import FRAMEWORKS, assert_comparable, run
from corpus import NAMES


def program(torch):
    F = torch.nn.functional
    chars = sorted(set("".join(NAMES)))
    stoi = {s: i + 1 for i, s in enumerate(chars)}
    stoi["."] = 0
    itos = {i: s for s, i in stoi.items()}
    vocab, block_size = len(stoi), 3

    X, Y = [], []
    for w in NAMES:
        context = [0] * block_size
        for ch in w + ".":
            ix = stoi[ch]
            X.append(context)
            Y.append(ix)
            context = context[1:] + [ix]
    X, Y = torch.tensor(X), torch.tensor(Y)

    g = torch.Generator().manual_seed(2147483647)
    C = torch.randn((vocab, 8), generator=g)
    W1 = torch.randn((block_size * 8, 64), generator=g) * 0.2
    b1 = torch.randn(64, generator=g) * 0.01
    W2 = torch.randn((64, vocab), generator=g) * 0.01
    b2 = torch.zeros(vocab)
    parameters = [C, W1, b1, W2, b2]
    for p in parameters:
        p.requires_grad = True
    print(f"{sum(p.nelement() for p in parameters)} parameters")

    def full_loss():
        with torch.no_grad():
            emb = C[X]
            h = torch.tanh(emb.view(-1, block_size * 8) @ W1 + b1)
            return F.cross_entropy(h @ W2 + b2, Y).item()

    first = full_loss()
    for i in range(600):
        ix = torch.randint(0, X.shape[0], (32,), generator=g)
        emb = C[X[ix]]
        h = torch.tanh(emb.view(-1, block_size * 8) @ W1 + b1)
        logits = h @ W2 + b2
        loss = F.cross_entropy(logits, Y[ix])
        for p in parameters:
            p.grad = None
        loss.backward()
        lr = 0.2 if i < 400 else 0.05
        for p in parameters:
            p.data += -lr * p.grad
        if i % 200 == 0:
            print(f"step {i:4d}: loss {loss:.4f}")
    last = full_loss()

    names = []
    for _ in range(10):
        out, context = [], [0] * block_size
        while True:
            emb = C[torch.tensor([context])]
            h = torch.tanh(emb.view(1, -1) @ W1 + b1)
            probs = F.softmax(h @ W2 + b2, dim=1)
            ix = torch.multinomial(probs, num_samples=1, generator=g).item()
            context = context[1:] + [ix]
            if ix == 0 or len(out) > 20:
                break
            out.append(itos[ix])
        names.append("".join(out))
    return {"first_loss": first, "last_loss": last, "names": names}


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_char_mlp_learns_as_under_torch(framework):
    result = run(program, framework)
    assert result["last_loss"] < result["first_loss"] - 0.9
    assert len(result["names"]) == 10 and all(set(n) <= set("".join(NAMES)) for n in result["names"])
    assert sum(1 <= len(n) <= 10 for n in result["names"]) >= 6  # mostly name-like lengths
    if framework != "torch":
        assert_comparable(result, run(program, "torch"), "last_loss", rel=0.12)
