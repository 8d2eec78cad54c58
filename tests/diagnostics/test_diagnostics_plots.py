"""diagnostics.png: the file, and the plotted numbers against the monitor's
records (the data-gathering function, not pixels)."""

import math

import numpy as np
import pytest
from matplotlib import image as mpimg

import gradlab
from gradlab import nn
from gradlab.data import DataLoader, TensorDataset
from gradlab.diagnostics import HealthMonitor
from gradlab.diagnostics.histograms import GRAD_EDGES, activation_edges, binned, log_magnitude_counts
from gradlab.diagnostics.plots import MAX_PANELS, _named_in, _shown, diagnostics_data, plot_diagnostics
from gradlab.diagnostics.rules import finding
from gradlab.train import Trainer

BATCH, WIDTH = 16, 12


def _run(tmp_path, act=nn.ReLU, lr=0.05, depth=2, plot=True):
    gradlab.manual_seed(0)
    gen = gradlab.Generator().manual_seed(3)
    x = gradlab.randn(96, 5, generator=gen)
    y = (x[:, 0] > 0).long()
    layers, fan_in = [], 5
    for _ in range(depth):
        layers += [nn.Linear(fan_in, WIDTH), act()]
        fan_in = WIDTH
    model = nn.Sequential(*layers, nn.Linear(WIDTH, 2))
    monitor = HealthMonitor(every=2, plot=tmp_path / "diagnostics.png" if plot else None)
    trainer = Trainer(model, gradlab.optim.SGD(model.parameters(), lr=lr), nn.CrossEntropyLoss(),
                      callbacks=[monitor])
    trainer.fit(DataLoader(TensorDataset(x, y), batch_size=BATCH), epochs=2)
    return monitor, model


def test_monitor_writes_a_png_of_sensible_size(tmp_path):
    _run(tmp_path)
    path = tmp_path / "diagnostics.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    height, width = mpimg.imread(path).shape[:2]
    assert 900 <= width <= 2000 and 700 <= height <= 1600


def test_plotted_data_equals_the_records(tmp_path):
    monitor, model = _run(tmp_path, plot=False)
    data = diagnostics_data(monitor)
    assert data.steps == list(range(0, 12, 2))  # 6 batches an epoch, every 2nd sampled
    assert list(data.activation_images) == ["1", "3"]  # the ReLU layers, in depth order
    assert data.activation_kinds == {"1": "relu", "3": "relu"}
    for name, image in data.activation_images.items():
        assert image.shape == (len(data.activation_edges[name]) - 1, len(data.steps))
        for j, sample in enumerate(monitor.activation_histograms):
            np.testing.assert_array_equal(image[:, j], sample[name])
        # every value of the batch is counted once: batch x units
        np.testing.assert_array_equal(image.sum(axis=0), BATCH * WIDTH)
    assert list(data.gradient_images) == ["0.weight", "2.weight", "4.weight"]
    sizes = {name: p.numel() for name, p in model.named_parameters()}
    for name, image in data.gradient_images.items():
        for j, sample in enumerate(monitor.gradient_histograms):
            np.testing.assert_array_equal(image[:, j], sample[name])
        np.testing.assert_array_equal(image.sum(axis=0), sizes[name])
    np.testing.assert_array_equal(data.gradient_edges, GRAD_EDGES)
    for name, series in data.update_ratios.items():
        assert series == [r[name] for r in monitor.update_ratios]
    assert data.update_steps == data.steps[: len(monitor.update_ratios)]
    assert data.dead == {n: [d[n] for d in monitor.dead] for n in ("1", "3")}
    assert data.losses == monitor.losses and len(data.losses) == 12
    assert [f.code for f in data.findings] == [f.code for f in monitor.findings()]


def test_first_activation_histogram_is_of_the_first_batch(tmp_path):
    """The recorded histogram of a sample is the histogram of that batch's output."""
    gradlab.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 2))
    x = gradlab.randn(16, 5)
    y = gradlab.zeros(16, dtype=gradlab.int64)
    expected = np.tanh(model[0](x).detach().numpy()).astype(np.float64)
    monitor = HealthMonitor(every=1)
    Trainer(model, gradlab.optim.SGD(model.parameters(), lr=0.0), nn.CrossEntropyLoss(),
            callbacks=[monitor]).fit(DataLoader(TensorDataset(x, y), batch_size=16), epochs=1)
    edges = np.asarray(monitor.activation_edges["1"])
    np.testing.assert_array_equal(edges, np.linspace(-1, 1, 41))  # tanh: its output range
    np.testing.assert_array_equal(monitor.activation_histograms[0]["1"], np.histogram(expected, edges)[0])
    w_grad = model[0].weight.grad
    assert w_grad is None  # zeroed after the step: the histogram was taken before it
    assert sum(monitor.gradient_histograms[0]["0.weight"]) == 40


def test_histogram_helpers():
    edges = activation_edges("relu", np.array([0.0, 1.0, 3.0]))
    assert edges[0] == 0.0 and edges[-1] == pytest.approx(4.5)
    wide = activation_edges("linear", np.array([-1.0, 1.0]))
    assert (wide[0], wide[-1]) == (-2.0, 2.0)
    counts = binned(np.array([-10.0, 0.0, 10.0, np.nan]), np.array([-1.0, 0.0, 1.0]))
    np.testing.assert_array_equal(counts, [1, 2])  # out-of-range values land in the end bins
    grad = log_magnitude_counts(np.array([0.0, 1e-3, 1e-3, 5.0, np.inf]))
    assert grad.sum() == 4 and grad[0] == 1  # zero in the lowest bin, inf dropped
    assert grad[np.searchsorted(GRAD_EDGES, -3.0, side="right") - 1] == 2


def test_named_layers_are_matched_whole():
    f = finding("vanishing_gradients", "relative gradient 1e-6 at 1.weight vs 0.05 at 11.weight")
    assert _named_in("1.weight", [f]) == [f]
    assert _named_in("11.weight", [f]) == [f]
    assert _named_in("21.weight", [f]) == [] and _named_in("1", [f]) == []


def test_flagged_layers_are_always_shown():
    names = [str(i) for i in range(10)]
    assert _shown(names[:4], []) == names[:4]
    assert _shown(names, []) == ["0", "2", "4", "5", "7", "9"]
    shown = _shown(names, ["3", "6"])
    assert len(shown) == MAX_PANELS and "3" in shown and "6" in shown and shown == sorted(shown, key=int)


def test_problem_is_marked_and_many_layers_are_sampled(tmp_path):
    monitor, _ = _run(tmp_path, act=nn.Sigmoid, lr=0.05, depth=8, plot=False)
    monitor.update_ratios = [{k: 0.5 for k in r} for r in monitor.update_ratios]  # a step far too large
    data = diagnostics_data(monitor)
    assert "large_updates" in {f.code for f in data.findings}
    assert len(data.activation_images) == 8
    path = plot_diagnostics(monitor, tmp_path / "sick.png")
    assert path.stat().st_size > 20_000
    assert MAX_PANELS < 8


def test_state_round_trip_keeps_the_pictures(tmp_path):
    monitor, _ = _run(tmp_path, plot=False)
    state = monitor.state_dict()
    other = HealthMonitor()
    other.load_state_dict(state)
    a, b = diagnostics_data(monitor), diagnostics_data(other)
    for name in a.activation_images:
        np.testing.assert_array_equal(a.activation_images[name], b.activation_images[name])
    assert a.steps == b.steps and a.activation_kinds == b.activation_kinds
    old = {k: v for k, v in state.items() if k in HealthMonitor._RECORDS}  # a checkpoint from before
    other.load_state_dict(old)
    assert other.steps == [] and other.losses == monitor.losses
    assert math.isfinite(other.losses[0])


def test_gradlab_diagnose_writes_diagnostics_png(tmp_path, capsys):
    from gradlab.cli import main

    code = main(["diagnose", "--epochs", "1", "--model", "mlp", "--batch-size", "128",
                 "--output", str(tmp_path)])
    assert code == 0
    (folder,) = tmp_path.iterdir()
    assert (folder / "diagnostics.png").read_bytes()[:4] == b"\x89PNG"
    assert f"figure: {folder / 'diagnostics.png'}" in capsys.readouterr().out
