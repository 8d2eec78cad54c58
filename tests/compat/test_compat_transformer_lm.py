"""A small causal Transformer language model on characters: token and
position embeddings, a TransformerEncoder with a square subsequent mask,
AdamW, and sampling with ``torch.multinomial``."""

from __future__ import annotations

import pytest
from compat_run import FRAMEWORKS, assert_comparable, run
from corpus import TEXT


def program(torch):
    nn = torch.nn
    F = torch.nn.functional
    chars = sorted(set(TEXT))
    stoi = {c: i for i, c in enumerate(chars)}
    data = torch.tensor([stoi[c] for c in TEXT], dtype=torch.long)
    block, d_model = 24, 32

    class TinyLM(nn.Module):
        def __init__(self, vocab):
            super().__init__()
            self.tok = nn.Embedding(vocab, d_model)
            self.pos = nn.Embedding(block, d_model)
            layer = nn.TransformerEncoderLayer(d_model, nhead=4, dim_feedforward=64, dropout=0.0,
                                               batch_first=True, norm_first=True)
            self.encoder = nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)
            self.ln = nn.LayerNorm(d_model)
            self.head = nn.Linear(d_model, vocab)

        def forward(self, idx):
            T = idx.shape[1]
            x = self.tok(idx) + self.pos(torch.arange(T))
            mask = nn.Transformer.generate_square_subsequent_mask(T)
            x = self.encoder(x, mask=mask, is_causal=True)
            return self.head(self.ln(x))

    def get_batch(batch_size=16):
        ix = torch.randint(len(data) - block - 1, (batch_size,))
        x = torch.stack([data[i:i + block] for i in ix.tolist()])
        y = torch.stack([data[i + 1:i + block + 1] for i in ix.tolist()])
        return x, y

    torch.manual_seed(0)
    model = TinyLM(len(chars))
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(150):
        xb, yb = get_batch()
        logits = model(xb)
        B, T, V = logits.shape
        loss = F.cross_entropy(logits.view(B * T, V), yb.view(B * T))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())

    model.eval()
    idx = torch.zeros((1, 1), dtype=torch.long)
    with torch.no_grad():
        for _ in range(30):
            logits = model(idx[:, -block:])[:, -1, :]
            probs = F.softmax(logits, dim=-1)
            idx = torch.cat((idx, torch.multinomial(probs, num_samples=1)), dim=1)
    return {"first_loss": sum(losses[:10]) / 10, "last_loss": sum(losses[-10:]) / 10,
            "sample": "".join(chars[i] for i in idx[0].tolist())}


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_transformer_lm_learns_as_under_torch(framework):
    result = run(program, framework)
    assert result["last_loss"] < result["first_loss"] / 2
    assert len(result["sample"]) == 31
    if framework != "torch":
        assert_comparable(result, run(program, "torch"), "last_loss", rel=0.3)
