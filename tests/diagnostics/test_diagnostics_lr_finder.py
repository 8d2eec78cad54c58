"""lr_find on digits: the model and optimizer come back exactly, the
suggestion is sensible and trains as well as the tuned default."""

import numpy as np
import pytest

import gradlab
from gradlab import nn
from gradlab.diagnostics import lr_find
from gradlab.train import recipe


@pytest.fixture(scope="module")
def digits_config():
    return recipe.resolve_config({"model": {"name": "mlp"}, "epochs": 10})


def test_lr_find_restores_everything_and_suggests_a_sensible_rate(digits_config, tmp_path):
    parts = recipe.build(digits_config)
    model, opt, loader = parts.model, parts.trainer.optimizer, parts.train_loader
    # a step first, so that the optimizer has moments to restore
    x, y = next(iter(loader))
    nn.CrossEntropyLoss()(model(x), y).backward()
    opt.step()
    opt.zero_grad()
    weights = {k: v.array.copy() for k, v in model.state_dict().items()}
    moments = {
        i: {k: np.array(v.array if hasattr(v, "data") else v) for k, v in s.items()}
        for i, s in opt.state_dict()["state"].items()
    }
    lr = opt.param_groups[0]["lr"]
    loader_state = loader.generator.get_state()
    default_state = gradlab.default_generator.get_state()
    model.eval()

    result = lr_find(
        model,
        opt,
        loader,
        nn.CrossEntropyLoss(),
        start_lr=1e-5,
        end_lr=10.0,
        num_iter=60,
        plot=tmp_path / "lr.png",
    )

    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value.array, weights[key])
    for i, state in opt.state_dict()["state"].items():
        for k, v in state.items():
            np.testing.assert_array_equal(np.array(v.array if hasattr(v, "data") else v), moments[i][k])
    assert opt.param_groups[0]["lr"] == lr
    assert all(p.grad is None for p in model.parameters())
    assert loader.generator.get_state() == loader_state
    assert gradlab.default_generator.get_state() == default_state
    assert not model.training
    assert len(result.lrs) == len(result.losses) == len(result.smoothed) <= 60
    assert np.all(np.diff(result.lrs) > 0)
    assert result.suggestion is not None and 1e-4 <= result.suggestion <= 0.3
    assert (tmp_path / "lr.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_lr_find_stops_at_divergence():
    gen = gradlab.Generator().manual_seed(3)
    x = gradlab.randn(64, 10, generator=gen)
    y = (x[:, 0] > 0).long()
    model = nn.Sequential(nn.Linear(10, 16), nn.ReLU(), nn.Linear(16, 2))
    opt = gradlab.optim.SGD(model.parameters(), lr=0.1)
    result = lr_find(model, opt, [(x, y)], nn.CrossEntropyLoss(), start_lr=1e-3, end_lr=1e4, num_iter=80)
    assert result.diverged and len(result.lrs) < 80
    assert result.smoothed[-1] > 4.0 * min(result.smoothed) or not np.isfinite(result.losses[-1])


def test_suggested_rate_trains_within_one_percent_of_the_tuned_default(digits_config):
    parts = recipe.build(digits_config)
    suggestion = lr_find(
        parts.model,
        parts.trainer.optimizer,
        parts.train_loader,
        nn.CrossEntropyLoss(),
        start_lr=1e-5,
        end_lr=10.0,
        num_iter=100,
    ).suggestion
    accuracy = {}
    for name, lr in (("default", digits_config["optimizer"]["lr"]), ("suggested", suggestion)):
        config = recipe.resolve_config({"model": {"name": "mlp"}, "epochs": 10, "optimizer": {"lr": lr}})
        run = recipe.build(config)
        run.trainer.fit(run.train_loader, run.val_loader, epochs=10)
        accuracy[name] = run.trainer.evaluate(run.test_loader)["accuracy"]
    assert accuracy["suggested"] >= accuracy["default"] - 0.01, (suggestion, accuracy)


def test_lr_find_rejects_bad_arguments():
    model = nn.Linear(2, 2)
    opt = gradlab.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="start_lr"):
        lr_find(model, opt, [], nn.CrossEntropyLoss(), start_lr=1.0, end_lr=0.1)
    with pytest.raises(ValueError, match="num_iter"):
        lr_find(model, opt, [], nn.CrossEntropyLoss(), num_iter=1)
    with pytest.raises(ValueError, match="no batch"):
        lr_find(model, opt, [], nn.CrossEntropyLoss())
