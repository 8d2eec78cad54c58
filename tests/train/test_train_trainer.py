"""Trainer: the loop against a hand-written PyTorch loop (float64, same
weights and batches), scheduler stepping, plateau feeding, accumulation,
clipping, evaluate/predict, multitask."""

import numpy as np
import pytest
import torch

import gradlab
import gradlab.optim
from gradlab import nn
from gradlab.data import DataLoader, TensorDataset
from gradlab.optim import lr_scheduler
from gradlab.train import Trainer, callbacks


@pytest.fixture
def problem():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 5))
    y = rng.integers(0, 3, size=40)
    xv = rng.normal(size=(12, 5))
    yv = rng.integers(0, 3, size=12)
    w1, b1 = rng.normal(size=(8, 5)) * 0.5, rng.normal(size=8) * 0.1
    w2, b2 = rng.normal(size=(3, 8)) * 0.5, rng.normal(size=3) * 0.1
    return x, y, xv, yv, (w1, b1, w2, b2)


def gl_model(weights):
    gradlab.set_default_dtype(gradlab.float64)
    model = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 3))
    state = dict(zip(["0.weight", "0.bias", "2.weight", "2.bias"], weights))
    model.load_state_dict({k: gradlab.tensor(v) for k, v in state.items()})
    return model


def torch_model(weights):
    model = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3)).double()
    with torch.no_grad():
        for p, w in zip(model.parameters(), weights):
            p.copy_(torch.tensor(w))
    return model


def torch_loop(problem, epochs, batch, accumulation=1, clip=None, make_sched=None, per_batch=False):
    x, y, xv, yv, weights = problem
    model = torch_model(weights)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = make_sched(opt) if make_sched else None
    lossf = torch.nn.CrossEntropyLoss()
    losses, val_losses, lrs = [], [], []
    n_batches = -(-len(x) // batch)
    for _ in range(epochs):
        for b in range(n_batches):
            xb, yb = (
                torch.tensor(x[b * batch : (b + 1) * batch]),
                torch.tensor(y[b * batch : (b + 1) * batch]),
            )
            loss = lossf(model(xb), yb)
            (loss / accumulation).backward()
            losses.append(loss.item())
            if (b + 1) % accumulation == 0 or b + 1 == n_batches:
                if clip:
                    torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
                opt.step()
                opt.zero_grad()
                if sched is not None and per_batch:
                    sched.step()
        with torch.no_grad():
            val_losses.append(lossf(model(torch.tensor(xv)), torch.tensor(yv)).item())
        if sched is not None and not per_batch:
            sched.step()
        lrs.append(opt.param_groups[0]["lr"])
    return losses, val_losses, lrs


class BatchLosses(callbacks.Callback):
    def __init__(self):
        self.losses = []

    def on_train_batch_end(self, batch, logs=None):
        self.losses.append(logs["loss"])


def gl_fit(problem, epochs, batch, accumulation=1, clip=None, make_sched=None, interval=None):
    x, y, xv, yv, weights = problem
    model = gl_model(weights)
    opt = gradlab.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = make_sched(opt) if make_sched else None
    rec = BatchLosses()
    trainer = Trainer(
        model,
        opt,
        nn.CrossEntropyLoss(),
        callbacks=[rec],
        scheduler=sched,
        scheduler_interval=interval,
        grad_clip=clip,
        grad_accumulation=accumulation,
    )
    history = trainer.fit(
        DataLoader(TensorDataset(x, y), batch_size=batch),
        DataLoader(TensorDataset(xv, yv), batch_size=5),
        epochs=epochs,
    )
    return rec.losses, history, trainer


@pytest.mark.parametrize("accumulation,clip", [(1, None), (2, 0.5), (3, None)])
def test_fit_matches_torch_loop(problem, accumulation, clip):
    ref_losses, ref_val, _ = torch_loop(problem, 3, 8, accumulation, clip)
    losses, history, _ = gl_fit(problem, 3, 8, accumulation, clip)
    np.testing.assert_allclose(losses, ref_losses, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(history["val_loss"], ref_val, rtol=1e-10)
    # the epoch loss is the mean over samples of the batch losses (all batches have 8 samples)
    np.testing.assert_allclose(history["loss"][0], np.mean(ref_losses[:5]), rtol=1e-12)


def test_epoch_scheduler_is_stepped_per_epoch(problem):
    ref_losses, _, ref_lrs = torch_loop(
        problem, 4, 10, make_sched=lambda o: torch.optim.lr_scheduler.StepLR(o, 2, 0.5)
    )
    losses, history, _ = gl_fit(problem, 4, 10, make_sched=lambda o: lr_scheduler.StepLR(o, 2, 0.5))
    np.testing.assert_allclose(losses, ref_losses, rtol=1e-10)
    np.testing.assert_allclose(history["lr"], ref_lrs, rtol=1e-12)


def test_onecycle_is_stepped_per_batch_automatically(problem):
    def torch_sched(o):
        return torch.optim.lr_scheduler.OneCycleLR(o, max_lr=0.2, total_steps=12)

    ref_losses, _, ref_lrs = torch_loop(problem, 3, 10, make_sched=torch_sched, per_batch=True)
    losses, history, trainer = gl_fit(
        problem, 3, 10, make_sched=lambda o: lr_scheduler.OneCycleLR(o, max_lr=0.2, total_steps=12)
    )
    assert trainer.scheduler_interval == "batch"
    np.testing.assert_allclose(losses, ref_losses, rtol=1e-9)
    np.testing.assert_allclose(history["lr"], ref_lrs, rtol=1e-9)


def test_plateau_is_fed_the_monitored_validation_loss(problem):
    _, history, trainer = gl_fit(
        problem,
        8,
        10,
        make_sched=lambda o: lr_scheduler.ReduceLROnPlateau(o, factor=0.5, patience=0, threshold=0.0),
    )
    # replay the logged val losses through torch's ReduceLROnPlateau
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=0.1)
    ref = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=0, threshold=0.0)
    expected = []
    for v in history["val_loss"]:
        ref.step(v)
        expected.append(opt.param_groups[0]["lr"])
    np.testing.assert_allclose(history["lr"], expected, rtol=1e-12)
    assert min(expected) < 0.1  # the test is void unless the rate was actually reduced


def test_history_logs_and_evaluate_predict(problem):
    x, y, xv, yv, weights = problem
    model = gl_model(weights)
    trainer = Trainer(
        model, gradlab.optim.Adam(model.parameters(), lr=0.01), nn.CrossEntropyLoss(), metrics=["accuracy"]
    )
    val = DataLoader(TensorDataset(xv, yv), batch_size=5)
    history = trainer.fit(DataLoader(TensorDataset(x, y), batch_size=16), val, epochs=2)
    assert {"loss", "accuracy", "val_loss", "val_accuracy", "lr", "grad_norm", "time"} <= set(history.keys())
    assert history.epoch == [0, 1] and all(t > 0 for t in history["time"])
    out = trainer.predict(val)
    assert out.shape == (12, 3)
    tm = torch_model([p.array for p in model.parameters()])
    ref = tm(torch.tensor(xv)).detach().numpy()
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-10)
    logs = trainer.evaluate(val)
    ref_loss = torch.nn.functional.cross_entropy(torch.tensor(ref), torch.tensor(yv)).item()
    assert logs["loss"] == pytest.approx(ref_loss, rel=1e-10)
    assert logs["accuracy"] == pytest.approx(np.mean(ref.argmax(1) == yv))
    assert logs["val_loss" if False else "loss"] == pytest.approx(history["val_loss"][-1], rel=1e-12)


def test_grad_norm_is_the_norm_before_clipping(problem):
    x, y, _, _, weights = problem
    model = gl_model(weights)
    captured = []

    class Grab(callbacks.Callback):
        def on_before_optimizer_step(self, batch, logs=None):
            g = np.concatenate([p.grad.numpy().ravel() for p in self.model.parameters()])
            captured.append((np.linalg.norm(g), logs["grad_norm"]))

    Trainer(
        model,
        gradlab.optim.SGD(model.parameters(), lr=0.1),
        nn.CrossEntropyLoss(),
        callbacks=[Grab()],
        grad_clip=1e-3,
    ).fit(DataLoader(TensorDataset(x, y), batch_size=40), epochs=1)
    norm_after_clip, logged = captured[0]
    assert norm_after_clip == pytest.approx(1e-3, rel=1e-5)  # clipped before the step
    assert logged > 1e-2  # the logged norm is the one before clipping


class TwoHeads(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(5, 8)
        self.digit = nn.Linear(8, 3)
        self.parity = nn.Linear(8, 2)

    def forward(self, x):
        h = self.body(x).tanh()
        return {"digit": self.digit(h), "parity": self.parity(h)}


def test_multitask_weighted_losses_and_per_head_metrics(problem):
    x, y, xv, yv, _ = problem
    gradlab.set_default_dtype(gradlab.float64)
    gradlab.manual_seed(0)
    model = TwoHeads()
    ds = TensorDataset(x, y, y % 2)
    ce = nn.CrossEntropyLoss()
    trainer = Trainer(
        model,
        gradlab.optim.SGD(model.parameters(), lr=0.0),
        {"digit": ce, "parity": ce},
        metrics=["accuracy"],
        loss_weights={"digit": 1.0, "parity": 0.25},
    )
    history = trainer.fit(
        DataLoader(ds, batch_size=40), DataLoader(TensorDataset(xv, yv, yv % 2), batch_size=12), epochs=1
    )
    for key in ("loss_digit", "loss_parity", "accuracy_digit", "accuracy_parity", "val_loss_digit"):
        assert key in history, key
    assert history["loss"][0] == pytest.approx(
        history["loss_digit"][0] + 0.25 * history["loss_parity"][0], rel=1e-12
    )
    out = model(gradlab.tensor(x))
    assert history["accuracy_parity"][0] == pytest.approx(
        np.mean(out["parity"].detach().numpy().argmax(1) == y % 2)
    )
    with pytest.raises(ValueError, match="loss_weights.*'color'"):
        Trainer(model, trainer.optimizer, {"digit": ce}, loss_weights={"color": 1.0})


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"grad_clip": -1.0}, "grad_clip"),
        ({"grad_accumulation": 0}, "grad_accumulation"),
        ({"scheduler_interval": "week"}, "scheduler_interval"),
    ],
)
def test_bad_arguments_are_named(problem, kwargs, match):
    model = gl_model(problem[4])
    with pytest.raises(ValueError, match=match):
        Trainer(model, gradlab.optim.SGD(model.parameters(), lr=0.1), nn.CrossEntropyLoss(), **kwargs)


def test_plateau_per_batch_is_refused(problem):
    model = gl_model(problem[4])
    opt = gradlab.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="ReduceLROnPlateau"):
        Trainer(
            model,
            opt,
            nn.CrossEntropyLoss(),
            scheduler=lr_scheduler.ReduceLROnPlateau(opt),
            scheduler_interval="batch",
        )
