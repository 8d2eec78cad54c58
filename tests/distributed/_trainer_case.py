"""A Trainer run shared by the MPI program and the in-process reference:
a small CNN with batch norm on synthetic digits-sized data, batches of 9
(shares of 4 and 5 on two ranks: unequal), SGD with momentum."""

from __future__ import annotations

import numpy as np

import gradlab
from gradlab import nn, optim
from gradlab.backend import Generator
from gradlab.train import Trainer
from gradlab.utils.data import DataLoader, TensorDataset


def build(sync: bool) -> Trainer:
    gradlab.manual_seed(0)
    gradlab.set_default_dtype(gradlab.float64)
    model = nn.Sequential(nn.Conv2d(1, 3, 3, bias=False), nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten(),
                          nn.Linear(3 * 6 * 6, 4))
    if sync:
        model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    return Trainer(model, opt, nn.CrossEntropyLoss(), metrics=["accuracy"])


def loaders() -> tuple[DataLoader, DataLoader]:
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((45, 1, 8, 8)), rng.integers(0, 4, 45)
    train = DataLoader(TensorDataset(x[:36], y[:36]), batch_size=9, shuffle=True,
                       generator=Generator().manual_seed(1))
    return train, DataLoader(TensorDataset(x[36:], y[36:]), batch_size=9)


def state(trainer: Trainer) -> dict[str, np.ndarray]:
    return {k: v.detach().numpy().copy() for k, v in trainer.model.state_dict().items()}
