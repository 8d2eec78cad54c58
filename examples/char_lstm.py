"""A character-level LSTM language model (Karpathy's char-rnn, in small):
learn to predict the next character of a text, then sample from it.

Run: python examples/char_lstm.py   (a few seconds)
"""

import numpy as np

import gradlab
from gradlab import nn

text = "the quick brown fox jumps over the lazy dog. " * 20
chars = sorted(set(text))
index = {c: i for i, c in enumerate(chars)}
data = np.array([index[c] for c in text], dtype=np.int64)


class CharLSTM(nn.Module):
    def __init__(self, vocab: int, hidden: int = 64) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, 16)
        self.lstm = nn.LSTM(16, hidden, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, x, state=None):
        out, state = self.lstm(self.embed(x), state)
        return self.head(out), state


gradlab.manual_seed(0)
model = CharLSTM(len(chars))
optimizer = gradlab.optim.Adam(model.parameters(), lr=1e-2)
loss_fn = nn.CrossEntropyLoss()
rng = np.random.default_rng(0)
seq, batch = 32, 16
losses = []
for _ in range(100):
    starts = rng.integers(0, len(data) - seq - 1, size=batch)
    x = gradlab.tensor(np.stack([data[s:s + seq] for s in starts]))
    y = gradlab.tensor(np.stack([data[s + 1:s + seq + 1] for s in starts]))  # the next characters
    logits, _ = model(x)
    loss = loss_fn(logits.reshape(-1, len(chars)), y.reshape(-1))
    optimizer.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), 1.0)  # LSTMs like clipped gradients
    optimizer.step()
    losses.append(loss.item())

# greedy sampling from a prompt, carrying the LSTM state
model.eval()
out, state = "the q", None
with gradlab.no_grad():
    logits, state = model(gradlab.tensor([[index[c] for c in out]]), state)
    for _ in range(40):
        nxt = int(logits[0, -1].argmax().item())
        out += chars[nxt]
        logits, state = model(gradlab.tensor([[nxt]]), state)
print(f"loss {losses[0]:.2f} -> {np.mean(losses[-10:]):.3f}; sample: {out!r}")
assert np.mean(losses[-10:]) < 0.2 * losses[0]
assert "brown fox" in out
