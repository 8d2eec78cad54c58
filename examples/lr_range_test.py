"""The learning-rate range test (Smith, 2017): train briefly while the rate
grows exponentially, watch where the loss falls fastest, start there.
The test restores the model and optimizer afterwards.

Run: python examples/lr_range_test.py   (a few seconds)
"""

import gradlab
from gradlab import nn
from gradlab.data import DataLoader, TensorDataset, datasets
from gradlab.diagnostics import lr_find

gradlab.manual_seed(0)
(x_train, y_train), _ = datasets.digits()
loader = DataLoader(TensorDataset(x_train, y_train), batch_size=64, shuffle=True,
                    generator=gradlab.Generator().manual_seed(0))
model = nn.Sequential(nn.Flatten(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
optimizer = gradlab.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
before = [p.detach().numpy().copy() for p in model.parameters()]

result = lr_find(model, optimizer, loader, nn.CrossEntropyLoss(), start_lr=1e-5, end_lr=10.0, num_iter=80)
print(f"swept {len(result.lrs)} rates from {result.lrs[0]:.0e} to {result.lrs[-1]:.2g}"
      f"{' (stopped: the loss diverged)' if result.diverged else ''}; suggested lr {result.suggestion:.3g}")

assert result.suggestion is not None and 1e-4 < result.suggestion < 10
assert all((p.detach().numpy() == b).all() for p, b in zip(model.parameters(), before))  # restored
assert optimizer.param_groups[0]["lr"] == 0.1
