"""Models and training loops shared by the MPI programs (run under
``mpiexec``) and the single-process references the tests compute.

One training step of a rank: forward its share of the global batch, mean
loss over the share, backward (DDP averages the gradients), optimizer step.
The reference: the same model and optimizer on the whole batch in one
process, with plain BatchNorm2d where the ranks use SyncBatchNorm.
"""

from __future__ import annotations

import numpy as np

import gradlab
from gradlab import nn, optim

STEPS = 3
BATCH = 8


def make_model(batch_norm: bool, dtype: gradlab.dtype) -> nn.Module:
    gradlab.manual_seed(0)
    # no conv bias before batch norm: its true gradient is 0, and Adam turns
    # the rounding noise of a zero gradient into steps of size lr
    layers = [nn.Conv2d(1, 4, 3, bias=not batch_norm)]
    if batch_norm:
        layers.append(nn.BatchNorm2d(4))
    layers += [nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 3)]
    return nn.Sequential(*layers).to(dtype)


def make_optimizer(name: str, params) -> optim.Optimizer:
    if name == "sgd":
        return optim.SGD(params, lr=0.1, momentum=0.9, weight_decay=1e-3)
    return optim.Adam(params, lr=1e-2)


def data(dtype: gradlab.dtype) -> list[tuple[gradlab.Tensor, gradlab.Tensor]]:
    rng = np.random.default_rng(1)
    return [(gradlab.tensor(rng.standard_normal((BATCH, 1, 8, 8)), dtype=dtype),
             gradlab.tensor(rng.integers(0, 3, BATCH))) for _ in range(STEPS)]


def train(model: nn.Module, opt: optim.Optimizer, batches, rank: int = 0, world: int = 1,
          forward=None) -> None:
    forward = forward or model
    share = BATCH // world
    for x, y in batches:
        xs, ys = x[rank * share:(rank + 1) * share], y[rank * share:(rank + 1) * share]
        loss = nn.functional.cross_entropy(forward(xs), ys)
        opt.zero_grad()
        loss.backward()
        opt.step()


CASES = [(opt, bn, dt) for opt in ("sgd", "adam") for bn in (False, True) for dt in ("float64", "float32")]


def key(opt: str, bn: bool, dt: str) -> str:
    return f"{opt}-{'bn' if bn else 'plain'}-{dt}"


def reference(opt: str, bn: bool, dt: str) -> dict[str, np.ndarray]:
    dtype = getattr(gradlab, dt)
    model = make_model(bn, dtype)
    train(model, make_optimizer(opt, model.parameters()), data(dtype))
    return {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
