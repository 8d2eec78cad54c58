"""A tiny, fully seeded training run used by the train tests: every source
of randomness the Trainer must restore on resume is in it (shuffled order,
augmentation, dropout, weight noise, the default generator)."""

from __future__ import annotations

import numpy as np

import gradlab
import gradlab.optim
from gradlab import nn
from gradlab.data import DataLoader, TensorDataset, datasets, transforms
from gradlab.optim import lr_scheduler
from gradlab.train import Trainer, callbacks, regularizers


def digits_subset(n_train: int = 256, n_val: int = 64):
    (x, y), (xv, yv) = datasets.digits()
    return (x[:n_train], y[:n_train]), (xv[:n_val], yv[:n_val])


class Recorder(callbacks.Callback):
    """Keeps every batch's loss and every epoch's logs (test-side only)."""

    def __init__(self) -> None:
        self.losses: list[float] = []
        self.epochs: list[dict] = []

    def on_train_batch_end(self, batch, logs=None):
        self.losses.append(logs["loss"])

    def on_epoch_end(self, epoch, logs=None):
        self.epochs.append({k: v for k, v in logs.items() if k != "time"})


class InterruptAt(callbacks.Callback):
    """Asks for an interrupt after global step ``at`` (as Ctrl-C would)."""

    def __init__(self, at: int | None) -> None:
        self.at = at

    def on_train_batch_end(self, batch, logs=None):
        if self.at is not None and self.trainer.global_step == self.at:
            self.trainer.request_interrupt()


def make_run(
    interrupt_at: int | None = None,
    grad_accumulation: int = 1,
    epochs: int = 3,
    early_stopping_patience: int = 10,
    early_stopping_baseline: float | None = None,
    plateau: bool = False,
):
    """(trainer, train_loader, val_loader, recorder) for the seeded run."""
    gradlab.manual_seed(0)
    (x, y), (xv, yv) = digits_subset()
    order_gen = gradlab.Generator().manual_seed(1)
    aug_gen = gradlab.Generator().manual_seed(2)
    drop_gen = gradlab.Generator().manual_seed(3)
    noise_gen = gradlab.Generator().manual_seed(4)
    augment = transforms.GaussianNoise(std=0.05, generator=aug_gen)
    train_loader = DataLoader(
        TensorDataset(x, y), batch_size=32, shuffle=True, generator=order_gen, transform=augment
    )
    val_loader = DataLoader(TensorDataset(xv, yv), batch_size=32)
    model = nn.Sequential(
        nn.Flatten(),
        nn.Linear(64, 32),
        nn.BatchNorm1d(32),
        nn.ReLU(),
        nn.Dropout(0.2, generator=drop_gen),
        nn.Linear(32, 16),
        nn.ReLU(),
        nn.Dropout(0.1),
        nn.Linear(16, 10),
    )
    opt = gradlab.optim.Adam(model.parameters(), lr=5e-3)
    steps = epochs * len(train_loader) // grad_accumulation
    if plateau:  # per epoch, fed the validation loss; a warmup of one epoch in front
        after = lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=0, threshold=0.5)
        sched, interval = lr_scheduler.Warmup(opt, after, warmup_steps=1), "epoch"
    else:
        after = lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
        sched, interval = lr_scheduler.Warmup(opt, after, warmup_steps=5), "batch"
    recorder = Recorder()
    cbs = [
        callbacks.EMA(decay=0.9),
        callbacks.EarlyStopping(
            patience=early_stopping_patience, baseline=early_stopping_baseline, restore_best_weights=True
        ),
        InterruptAt(interrupt_at),
        recorder,
    ]
    trainer = Trainer(
        model,
        opt,
        nn.CrossEntropyLoss(label_smoothing=0.1),
        metrics=["accuracy"],
        callbacks=cbs,
        scheduler=sched,
        scheduler_interval=interval,
        regularizers=[regularizers.WeightNoise(0.01, generator=noise_gen), regularizers.L2(1e-4)],
        grad_clip=5.0,
        grad_accumulation=grad_accumulation,
    )
    return trainer, train_loader, val_loader, recorder


def params_of(model) -> dict[str, np.ndarray]:
    return {k: v.array.copy() for k, v in model.state_dict().items()}
