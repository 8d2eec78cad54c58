"""HealthMonitor on purpose-built sick runs names the right problem, and
stays quiet on healthy ones."""

import pytest

import gradlab
from gradlab import nn
from gradlab.cli import main
from gradlab.data import DataLoader, TensorDataset
from gradlab.diagnostics import REMEDIES, HealthMonitor, Thresholds
from gradlab.diagnostics.rules import curve_findings, loss_findings
from gradlab.train import Trainer

HEALTHY_LR = 0.05


def _loader(seed: int = 1) -> DataLoader:
    gen = gradlab.Generator().manual_seed(7)
    x = gradlab.randn(512, 20, generator=gen)
    y = (x @ gradlab.randn(20, 4, generator=gen)).argmax(1)
    return DataLoader(
        TensorDataset(x, y), batch_size=32, shuffle=True, generator=gradlab.Generator().manual_seed(seed)
    )


def _mlp(act: type, depth: int, width: int = 64, scale: float | None = None, bias: float | None = None):
    layers, fan_in = [], 20
    for _ in range(depth):
        linear = nn.Linear(fan_in, width)
        with gradlab.no_grad():
            if scale is not None:
                linear.weight.normal_(0.0, scale)
                linear.bias.zero_()
            if bias is not None:
                linear.bias.fill_(bias)
        layers += [linear, act()]
        fan_in = width
    return nn.Sequential(*layers, nn.Linear(fan_in, 4))


def _codes(model: nn.Module, lr: float, epochs: int = 3) -> set[str]:
    monitor = HealthMonitor(every=5)
    opt = gradlab.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    trainer = Trainer(model, opt, nn.CrossEntropyLoss(), metrics=["accuracy"], callbacks=[monitor])
    trainer.fit(_loader(), _loader(2), epochs=epochs)
    report = monitor.report()
    codes = {f.code for f in monitor.findings()}
    for code in codes:  # every finding is reported with its remedy
        assert REMEDIES[code][1] in report
    return codes


def test_healthy_run_is_quiet():
    assert _codes(_mlp(nn.ReLU, 3), HEALTHY_LR) == set()


def test_small_init_tanh_net_has_vanishing_activations():
    codes = _codes(_mlp(nn.Tanh, 10, width=100, scale=0.01), HEALTHY_LR)
    assert "vanishing_activations" in codes
    assert "dead_relus" not in codes and "diverging_loss" not in codes


def test_all_dead_relu_net_has_dead_relus():
    codes = _codes(_mlp(nn.ReLU, 3, bias=-10.0), HEALTHY_LR)
    assert "dead_relus" in codes
    assert "vanishing_activations" not in codes  # a dead layer's zero std is not reported twice


def test_ten_times_the_learning_rate_diverges():
    codes = _codes(_mlp(nn.ReLU, 3), 10 * HEALTHY_LR)
    assert "diverging_loss" in codes
    assert "underfitting" not in codes  # a diverged run's curves are not read as fitting


def test_saturated_sigmoid_units_are_named():
    codes = _codes(_mlp(nn.Sigmoid, 2, scale=3.0), HEALTHY_LR, epochs=1)
    assert "saturated_units" in codes


def test_default_recipe_diagnose_command_stays_quiet(capsys, tmp_path):
    assert main(["diagnose", "--epochs", "2", "--output", str(tmp_path)]) == 0  # diagnostics.png goes there
    out = capsys.readouterr().out
    assert "diagnosing cnn on digits: 2 epochs" in out
    assert "no problem found" in out


def test_loss_and_curve_rules():
    t = Thresholds()
    assert {f.code for f in loss_findings([1.0] * 40, 10, t)} == {"plateaued_loss"}
    assert {f.code for f in loss_findings([1.0, float("nan")], 10, t)} == {"diverging_loss"}
    falling = [2.0 - 0.04 * i for i in range(40)]
    assert loss_findings(falling, 10, t) == []
    spiky = [1.0] * 10 + [0.8] * 10 + [1.6] + [0.7] * 19  # one batch 60% above the start
    assert {f.code for f in loss_findings(spiky, 10, t)} == {"diverging_loss"}
    overfit = [{"loss": 1.0 - 0.2 * i, "val_loss": [0.9, 0.7, 0.8, 1.0][i]} for i in range(4)]
    assert [f.code for f in curve_findings(overfit, 2.3, t)] == ["overfitting"]
    gap = [{"loss": 0.1, "val_loss": 0.5, "accuracy": 1.0, "val_accuracy": 0.7}] * 2
    assert [f.code for f in curve_findings(gap, 2.3, t)] == ["overfitting"]
    stuck = [{"loss": 2.2, "val_loss": 2.2}, {"loss": 2.0, "val_loss": 2.0}]
    assert [f.code for f in curve_findings(stuck, 2.3, t)] == ["underfitting"]
    good = [{"loss": 1.0, "val_loss": 1.0}, {"loss": 0.3, "val_loss": 0.35}]
    assert curve_findings(good, 2.3, t) == []


def test_every_remedy_is_one_sentence():
    for problem, remedy in REMEDIES.values():
        assert problem and remedy.endswith(".") and remedy.count(". ") == 0


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="every"):
        HealthMonitor(every=0)
    with pytest.raises(TypeError, match="thresholds"):
        HealthMonitor(thresholds={"dead": 0.5})


class _InterruptAt(gradlab.train.callbacks.Callback):
    def __init__(self, at):
        self.at = at

    def on_train_batch_end(self, batch, logs=None):
        if self.trainer.global_step == self.at:
            self.trainer.request_interrupt()


def _monitored_run(tmp_path=None, interrupt_at=None, resume_from=None):
    gradlab.manual_seed(0)
    monitor = HealthMonitor(every=3)
    model = _mlp(nn.ReLU, 2)
    trainer = Trainer(model, gradlab.optim.SGD(model.parameters(), lr=HEALTHY_LR), nn.CrossEntropyLoss(),
                      callbacks=[monitor, _InterruptAt(interrupt_at)])
    path = None if tmp_path is None else tmp_path / "run.ckpt"
    trainer.fit(_loader(), _loader(2), epochs=2, checkpoint_path=path, resume_from=resume_from)
    return monitor, path


def test_a_resumed_run_reports_on_the_whole_run(tmp_path):
    whole, _ = _monitored_run()
    with pytest.raises(gradlab.train.Interrupted):
        _monitored_run(tmp_path, interrupt_at=21)  # mid second epoch, on a sampled batch
    resumed, _ = _monitored_run(resume_from=tmp_path / "run.ckpt")
    assert len(resumed.losses) == len(whole.losses) == 32
    for name in HealthMonitor._RECORDS:
        if name != "epochs":
            assert getattr(resumed, name) == getattr(whole, name), name

    def untimed(epochs):
        return [{k: v for k, v in e.items() if k != "time"} for e in epochs]

    assert untimed(resumed.epochs) == untimed(whole.epochs)
    assert len(resumed.stds) == len(whole.stds) == 11 and resumed.stds[-1]
    assert resumed.report() == whole.report()


def test_a_state_without_its_records_is_refused():
    with pytest.raises(ValueError, match=r"missing \['stds'"):
        HealthMonitor().load_state_dict({"losses": [], "epochs": []})
