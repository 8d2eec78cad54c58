"""Callbacks: EarlyStopping, ModelCheckpoint, TerminateOnNaN, loggers,
progress, LR monitor, EMA, SnapshotEnsemble."""

import io
import json
import math

import numpy as np
import pytest
from train_fixtures import digits_subset

import gradlab
import gradlab.optim
from gradlab import nn
from gradlab.data import DataLoader, TensorDataset
from gradlab.train import Trainer, callbacks


class Stub:
    """The least a callback needs: stop_training and a model."""

    def __init__(self):
        self.stop_training = False
        self.model = nn.Linear(2, 1)
        self.callbacks = []


def scripted(cb, values, key="val_loss"):
    """Feed monitored values epoch by epoch; returns the epoch it stopped at (or None)."""
    stub = Stub()
    cb.set_trainer(stub)
    cb.on_train_begin()
    for epoch, v in enumerate(values):
        cb.on_epoch_end(epoch, {key: v})
        if stub.stop_training:
            return epoch
    return None


def test_early_stopping_patience_counts_epochs_without_improvement():
    values = [1.0, 0.9, 0.95, 0.93, 0.92, 0.8]
    assert scripted(callbacks.EarlyStopping(patience=3), values) == 4
    assert scripted(callbacks.EarlyStopping(patience=4), values) is None
    assert (
        scripted(callbacks.EarlyStopping(patience=0), values) == 2
    )  # Keras: stops at the first non-improvement


def test_early_stopping_min_delta_ignores_small_improvements():
    values = [1.0, 0.99, 0.985, 0.98, 0.5]
    assert scripted(callbacks.EarlyStopping(patience=2, min_delta=0.05), values) == 2
    es = callbacks.EarlyStopping(patience=2, min_delta=0.005)
    assert scripted(es, values) is None and es.best == 0.5


def test_early_stopping_mode_max_baseline_and_auto():
    assert (
        scripted(
            callbacks.EarlyStopping(monitor="val_accuracy", patience=1), [0.5, 0.6, 0.55], key="val_accuracy"
        )
        == 2
    )
    # the baseline must be beaten: none of these does
    assert scripted(callbacks.EarlyStopping(patience=2, baseline=0.1), [0.5, 0.4, 0.3]) == 1
    with pytest.raises(KeyError, match="val_loss.*not logged"):
        scripted(callbacks.EarlyStopping(), [1.0], key="loss")
    with pytest.raises(ValueError, match="mode"):
        callbacks.EarlyStopping(mode="lowest")


def make_trainer(cbs, lr=0.05, n_train=256, seed=0, **kw):
    gradlab.manual_seed(seed)
    (x, y), (xv, yv) = digits_subset(n_train)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 64), nn.BatchNorm1d(64), nn.ReLU(), nn.Linear(64, 10))
    trainer = Trainer(
        model,
        gradlab.optim.Adam(model.parameters(), lr=lr),
        nn.CrossEntropyLoss(),
        metrics=["accuracy"],
        callbacks=cbs,
        **kw,
    )
    train = DataLoader(
        TensorDataset(x, y), batch_size=32, shuffle=True, generator=gradlab.Generator().manual_seed(1)
    )
    val = DataLoader(TensorDataset(xv, yv), batch_size=64)
    return trainer, train, val


def test_early_stopping_restores_the_best_weights():
    es = callbacks.EarlyStopping(patience=3, restore_best_weights=True)
    trainer, train, val = make_trainer([es], lr=0.05, n_train=96)  # small set: it overfits, val loss rises
    history = trainer.fit(train, val, epochs=40)
    best = min(history["val_loss"])
    assert es.stopped_epoch > 0 and history["val_loss"][-1] > best  # it did stop after getting worse
    assert es.best_epoch == int(np.argmin(history["val_loss"]))
    assert trainer.evaluate(val)["loss"] == best  # bit for bit: the weights and buffers of that epoch


def test_model_checkpoint_every_n_and_best_only(tmp_path):
    every = callbacks.ModelCheckpoint(tmp_path / "every-{epoch}.ckpt", every_n_epochs=2)
    best = callbacks.ModelCheckpoint(
        tmp_path / "best-{epoch}.ckpt", save_best_only=True, save_weights_only=True
    )
    trainer, train, val = make_trainer([every, best], n_train=96)
    history = trainer.fit(train, val, epochs=6)
    assert sorted(p.name for p in tmp_path.glob("every-*")) == [
        "every-2.ckpt",
        "every-4.ckpt",
        "every-6.ckpt",
    ]
    v = history["val_loss"]
    improved = [e + 1 for e in range(len(v)) if v[e] < min(v[:e], default=math.inf)]
    assert sorted(int(p.stem.split("-")[1]) for p in tmp_path.glob("best-*")) == improved
    weights = gradlab.load(tmp_path / f"best-{improved[-1]}.ckpt")
    np.testing.assert_array_equal(
        weights["1.weight"].numpy(), trainer.model[1].weight.detach().numpy()
    ) if improved[-1] == 6 else None
    # a full checkpoint taken at an epoch end resumes at the next epoch
    state = gradlab.load(tmp_path / "every-4.ckpt")
    assert state["progress"]["epoch"] == 4 and state["progress"]["batch_in_epoch"] == 0
    assert len(state["history"]["epoch"]) == 4


class Explode(nn.Module):
    """Identity until ``at`` calls, then log of a negative number (nan)."""

    def __init__(self, at):
        super().__init__()
        self.calls, self.at = 0, at

    def forward(self, x):
        self.calls += 1
        return (x - 1e6).log() if self.calls > self.at else x


def test_terminate_on_nan_stops_at_first_nan_and_names_the_layer(capsys):
    gradlab.manual_seed(0)
    (x, y), _ = digits_subset(128)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 16), Explode(at=3), nn.Linear(16, 10))
    stop = callbacks.TerminateOnNaN()
    trainer = Trainer(
        model, gradlab.optim.SGD(model.parameters(), lr=0.1), nn.CrossEntropyLoss(), callbacks=[stop]
    )
    before = {}

    class Snapshot(callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            before.update({k: v.array.copy() for k, v in self.model.state_dict().items()})

    trainer.callbacks.callbacks.insert(0, Snapshot())
    trainer.callbacks.callbacks[0].set_trainer(trainer)
    history = trainer.fit(DataLoader(TensorDataset(x, y), batch_size=16), epochs=3)
    assert stop.stopped_batch == 3 and trainer.global_step == 4  # the 4th batch, first nan
    assert stop.culprit == "output of layer 2 (Explode)"
    assert "Explode" in capsys.readouterr().out
    for k, v in model.state_dict().items():  # the nan batch was not applied
        np.testing.assert_array_equal(v.array, before[k], err_msg=k)
    assert len(history) == 0 or math.isnan(history["loss"][-1])


def test_terminate_on_nan_names_a_non_finite_parameter():
    (x, y), (xv, yv) = digits_subset(64)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))

    class Poison(callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            if batch == 1:
                self.model[1].weight.array[0, 0] = np.inf

    stop = callbacks.TerminateOnNaN(verbose=False)
    history = Trainer(
        model,
        gradlab.optim.SGD(model.parameters(), lr=0.1),
        nn.CrossEntropyLoss(),
        callbacks=[Poison(), stop, callbacks.EarlyStopping(patience=3)],
    ).fit(DataLoader(TensorDataset(x, y), batch_size=16), DataLoader(TensorDataset(xv, yv)), epochs=3)
    assert stop.culprit == "parameter 1.weight" and stop.stopped_batch == 1
    assert len(history) == 1 and math.isnan(history["val_loss"][0])  # the epoch ends, then training stops


def test_csv_and_json_loggers_match_history(tmp_path):
    trainer, train, val = make_trainer(
        [callbacks.CSVLogger(tmp_path / "m.csv"), callbacks.JSONLogger(tmp_path / "m.jsonl")]
    )
    history = trainer.fit(train, val, epochs=3)
    import csv

    rows = list(csv.DictReader((tmp_path / "m.csv").open()))
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3]  # counted from 1, as the console
    assert [float(r["val_loss"]) for r in rows] == history["val_loss"]
    lines = [json.loads(s) for s in (tmp_path / "m.jsonl").read_text().splitlines()]
    assert [r["accuracy"] for r in lines] == history["accuracy"]


def test_progress_one_line_per_epoch_when_not_a_terminal():
    stream = io.StringIO()
    trainer, train, val = make_trainer([callbacks.ProgressBar(stream=stream)])
    trainer.fit(train, val, epochs=2)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2 and lines[0].startswith("epoch 1/2") and "val_accuracy" in lines[1]


def test_progress_bar_on_a_terminal_is_tqdm():
    stream = io.StringIO()
    trainer, train, val = make_trainer([callbacks.ProgressBar(stream=stream, bar=True)])
    trainer.fit(train, val, epochs=1)
    text = stream.getvalue()
    assert "epoch 1/1" in text and "8/8" in text and "loss" in text


def test_lr_monitor_records_every_step_and_group():
    opt_lrs = []
    mon = callbacks.LearningRateMonitor(logging_interval="step")
    trainer, train, val = make_trainer([mon])
    sched = gradlab.optim.lr_scheduler.LinearLR(trainer.optimizer, start_factor=0.1, total_iters=16)
    trainer.scheduler, trainer.scheduler_interval = sched, "batch"
    history = trainer.fit(train, val, epochs=2)
    for step in range(16):
        opt_lrs.append(0.05 * (0.1 + 0.9 * min(step + 1, 16) / 16))
    np.testing.assert_allclose([s[0] for s in mon.steps], opt_lrs, rtol=1e-12)
    assert history["lr_group0"] == [mon.steps[7][0], mon.steps[15][0]]


def test_ema_matches_its_formula_and_is_used_for_validation():
    trajectory = []

    class Track(callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            trajectory.append({n: p.array.copy() for n, p in self.model.named_parameters()})

    ema = callbacks.EMA(decay=0.8, ramp=True, apply_at_end=False)
    trainer, train, val = make_trainer([Track(), ema])
    initial = {n: p.array.copy() for n, p in trainer.model.named_parameters()}
    history = trainer.fit(train, val, epochs=2)
    for name, avg in initial.items():
        expected = avg.copy()
        for t, params in enumerate(trajectory):
            d = min(0.8, (1 + t) / (10 + t))
            expected = d * expected + (1 - d) * params[name]
        np.testing.assert_allclose(ema.shadow[name], expected, rtol=1e-6, atol=1e-7)
    live = {n: p.array.copy() for n, p in trainer.model.named_parameters()}
    np.testing.assert_array_equal(live["1.weight"], trajectory[-1]["1.weight"])  # swapped back after val
    assert history["val_loss"][-1] == trainer.evaluate(val)["loss"]  # evaluate uses the averages too
    ema.on_train_end()  # apply_at_end=False: the model keeps its own weights
    np.testing.assert_array_equal(trainer.model[1].weight.array, live["1.weight"])


def test_snapshot_ensemble_cycles_and_snapshots():
    snap = callbacks.SnapshotEnsemble(cycle_epochs=2, lr_max=0.02)
    mon = callbacks.LearningRateMonitor(logging_interval="step")
    trainer, train, val = make_trainer([snap, mon])
    trainer.fit(train, val, epochs=6)
    assert len(snap.snapshots) == 3
    c = 16  # batches per cycle
    lrs = [0.01 * (math.cos(math.pi * (t % c) / c) + 1) for t in range(48)]
    np.testing.assert_allclose([s[0] for s in mon.steps], lrs, rtol=1e-12)
    np.testing.assert_array_equal(snap.snapshots[-1]["1.weight"], trainer.model[1].weight.array)
    ensemble = snap.ensemble(
        lambda: nn.Sequential(
            nn.Flatten(), nn.Linear(64, 64), nn.BatchNorm1d(64), nn.ReLU(), nn.Linear(64, 10)
        )
    )
    xb = next(iter(val))[0]
    probs = ensemble.predict_proba(xb)
    np.testing.assert_allclose(probs.detach().numpy().sum(1), 1.0, rtol=1e-5)
    assert len(ensemble.members) == 3
