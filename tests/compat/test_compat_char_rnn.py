"""A character-level RNN unrolled by hand over time steps, its loss summed
with ``loss += F.cross_entropy(...)``, trained with Adam and gradient
clipping."""

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

    class CharRNN(nn.Module):
        def __init__(self, vocab, hidden):
            super().__init__()
            self.hidden = hidden
            self.embed = nn.Embedding(vocab, 16)
            self.cell = nn.GRUCell(16, hidden)
            self.head = nn.Linear(hidden, vocab)

        def forward(self, x, h):
            h = self.cell(self.embed(x), h)
            return self.head(h), h

        def init_hidden(self, batch):
            return torch.zeros(batch, self.hidden)

    torch.manual_seed(0)
    model = CharRNN(len(chars), 64)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    seq_len, batch = 16, 16
    losses = []
    for _ in range(120):
        starts = torch.randint(0, len(data) - seq_len - 1, (batch,))
        inputs = torch.stack([data[s:s + seq_len] for s in starts.tolist()])
        targets = torch.stack([data[s + 1:s + seq_len + 1] for s in starts.tolist()])
        hidden = model.init_hidden(batch)
        optimizer.zero_grad()
        loss = 0
        for t in range(seq_len):
            output, hidden = model(inputs[:, t], hidden)
            loss += F.cross_entropy(output, targets[:, t])
        loss /= seq_len
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        losses.append(loss.item())

    with torch.no_grad():
        hidden = model.init_hidden(1)
        x = torch.tensor([stoi["t"]])
        text = "t"
        for _ in range(40):
            output, hidden = model(x, hidden)
            x = output.argmax(dim=1)
            text += chars[x.item()]
    return {"first_loss": sum(losses[:10]) / 10, "last_loss": sum(losses[-10:]) / 10, "text": text}


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_char_rnn_learns_as_under_torch(framework):
    result = run(program, framework)
    assert result["last_loss"] < result["first_loss"] / 2
    assert " " in result["text"] and len(result["text"]) == 41
    if framework != "torch":
        assert_comparable(result, run(program, "torch"), "last_loss", rel=0.25)
