"""Stop a training run and resume it exactly: the run checkpoint holds the
model, optimizer, schedule, data order, random states and callbacks, so the
resumed run gives the same numbers, bit for bit, as one never stopped.
(Ctrl-C does the same to `gradlab train`; `gradlab resume RUN` continues.)

Run: python examples/resume_run.py   (a few seconds; writes run.ckpt here)
"""

import gradlab
from gradlab import nn
from gradlab.data import DataLoader, TensorDataset, datasets
from gradlab.optim import lr_scheduler
from gradlab.train import Interrupted, Trainer, callbacks


class StopAt(callbacks.Callback):
    """Ask for a stop after batch ``at`` of the run (what Ctrl-C does)."""

    def __init__(self, at):
        self.at = at

    def on_train_batch_end(self, batch, logs=None):
        if self.trainer.global_step == self.at:
            self.trainer.request_interrupt()


def make_trainer(stop_at=None):
    gradlab.manual_seed(0)  # same weights every time
    (x, y), (xv, yv) = datasets.digits()
    train = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True,
                       generator=gradlab.Generator().manual_seed(1))
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.ReLU(), nn.Dropout(0.2), nn.Linear(32, 10))
    optimizer = gradlab.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    schedule = lr_scheduler.CosineAnnealingLR(optimizer, T_max=3 * len(train))
    trainer = Trainer(model, optimizer, nn.CrossEntropyLoss(), metrics=["accuracy"], scheduler=schedule,
                      scheduler_interval="batch", callbacks=[StopAt(stop_at)])
    return trainer, train, DataLoader(TensorDataset(xv, yv), batch_size=256)


trainer, train, val = make_trainer()
reference = trainer.fit(train, val, epochs=3)

trainer, train, val = make_trainer(stop_at=30)  # stopped in the second epoch
try:
    trainer.fit(train, val, epochs=3, checkpoint_path="run.ckpt")
except Interrupted as stop:
    print(f"stopped; checkpoint {stop.checkpoint}")

trainer, train, val = make_trainer()  # a new process would build the same objects
resumed = trainer.fit(train, val, epochs=3, resume_from="run.ckpt")
print(f"val_loss per epoch: {resumed['val_loss']}")
assert resumed["val_loss"] == reference["val_loss"] and resumed["loss"] == reference["loss"]  # bit for bit
