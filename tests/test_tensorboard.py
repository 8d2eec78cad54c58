"""TensorBoard: SummaryWriter, the callback and ``gradlab train --tensorboard``,
read back with the tensorboard package's own event reader."""

import io
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from tensorboard.backend.event_processing import event_accumulator as ea

import gradlab
from gradlab import nn
from gradlab.data import DataLoader, TensorDataset
from gradlab.train import Trainer
from gradlab.train.callbacks import TensorBoard
from gradlab.utils.tensorboard import SummaryWriter

matplotlib.use("Agg")


def approx_curve(values):
    return [(step, pytest.approx(value, rel=1e-6)) for step, value in enumerate(values)]


def read(log_dir) -> ea.EventAccumulator:
    acc = ea.EventAccumulator(str(log_dir), size_guidance={ea.HISTOGRAMS: 0, ea.SCALARS: 0, ea.IMAGES: 0,
                                                           ea.TENSORS: 0})
    acc.Reload()
    return acc


def scalars(acc, tag):
    return [(e.step, e.value) for e in acc.Scalars(tag)]


def test_scalars_histograms_images_text(tmp_path):
    values = gradlab.tensor(np.linspace(-1.0, 1.0, 101))
    with SummaryWriter(tmp_path) as w:
        for step in range(3):
            w.add_scalar("loss", gradlab.tensor(1.0 / (step + 1)), step)
        w.add_histogram("weights", values, 7)
        w.add_image("picture", gradlab.tensor(np.full((3, 4, 5), 0.5)), 2)
        w.add_image("gray", np.zeros((4, 5)), 0, dataformats="HW")
        w.add_text("note", "hello **tensorboard**", 1)
        fig = plt.figure()
        w.add_figure("figure", fig, 4)
    acc = read(tmp_path)
    assert scalars(acc, "loss") == approx_curve([1.0, 0.5, 1 / 3])
    (hist,) = acc.Histograms("weights")
    assert hist.step == 7
    assert hist.histogram_value.num == 101
    assert hist.histogram_value.min == -1.0 and hist.histogram_value.max == 1.0
    assert hist.histogram_value.sum == pytest.approx(0.0, abs=1e-9)
    assert hist.histogram_value.sum_squares == pytest.approx(float(np.sum(np.linspace(-1, 1, 101) ** 2)))
    (img,) = acc.Images("picture")
    assert (img.step, img.width, img.height) == (2, 5, 4)
    assert acc.Images("gray")[0].width == 5
    assert [e.step for e in acc.Images("figure")] == [4]
    (text,) = acc.Tensors("note/text_summary")
    assert text.step == 1 and text.tensor_proto.string_val[0] == b"hello **tensorboard**"


def test_add_scalars_writes_one_run_per_curve(tmp_path):
    with SummaryWriter(tmp_path) as w:
        w.add_scalars("loss", {"train": 1.0, "val": 2.0}, 5)
    assert scalars(read(tmp_path / "loss_train"), "loss") == [(5, 1.0)]
    assert scalars(read(tmp_path / "loss_val"), "loss") == [(5, 2.0)]


def test_add_hparams(tmp_path):
    with SummaryWriter(tmp_path) as w:
        w.add_hparams({"lr": 0.1, "optimizer": "sgd"}, {"hparam/accuracy": 0.75}, run_name="trial")
    acc = read(tmp_path / "trial")
    assert scalars(acc, "hparam/accuracy") == [(0, 0.75)]
    from tensorboard.plugins.hparams import plugin_data_pb2

    content = acc.PluginTagToContent("hparams")
    start = plugin_data_pb2.HParamsPluginData.FromString(content["_hparams_/session_start_info"])
    assert start.session_start_info.hparams["lr"].number_value == 0.1
    assert start.session_start_info.hparams["optimizer"].string_value == "sgd"


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda w: w.add_scalar("", 1.0), "tag must be a non-empty string"),
        (lambda w: w.add_scalar("a", [1.0, 2.0]), "scalar_value must hold one number"),
        (lambda w: w.add_scalar("a", 1.0, -1), "global_step"),
        (lambda w: w.add_image("a", np.zeros((4, 5))), "expected 3 dimensions"),
        (lambda w: w.add_image("a", np.zeros((3, 4, 5)), dataformats="NCHW"), "dataformats"),
        (lambda w: w.add_histogram("a", []), "values is empty"),
        (lambda w: w.add_hparams({"lr": [1, 2]}, {}), r"hparam_dict\['lr'\]"),
    ],
)
def test_bad_arguments_are_named(tmp_path, call, match):
    with SummaryWriter(tmp_path) as w, pytest.raises(ValueError, match=match):
        call(w)


def _fit(tmp_path, **kwargs):
    gradlab.manual_seed(0)
    x = gradlab.randn(64, 4)
    y = (x[:, 0] > 0).long()
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    opt = gradlab.optim.SGD(model.parameters(), lr=0.1)
    tb = TensorBoard(tmp_path / "tb", **kwargs)
    trainer = Trainer(model, opt, nn.CrossEntropyLoss(), metrics=["accuracy"], callbacks=[tb])
    history = trainer.fit(DataLoader(TensorDataset(x, y), batch_size=16), DataLoader(TensorDataset(x, y),
                          batch_size=64), epochs=3)
    return model, history


def test_callback_logs_epochs_batches_and_histograms(tmp_path):
    model, history = _fit(tmp_path, histogram_freq=2, update_freq=2)
    train, val = read(tmp_path / "tb" / "train"), read(tmp_path / "tb" / "validation")
    assert scalars(train, "epoch_loss") == approx_curve(history["loss"])
    assert scalars(train, "epoch_accuracy") == approx_curve(history["accuracy"])
    assert scalars(val, "epoch_loss") == approx_curve(history["val_loss"])
    assert [s for s, _ in scalars(train, "epoch_learning_rate")] == [0, 1, 2]
    assert [s for s, _ in scalars(train, "batch_loss")] == [2, 4, 6, 8, 10, 12]  # 4 batches an epoch
    hists = train.Histograms("0.weight")
    assert [h.step for h in hists] == [0, 2]
    assert hists[-1].histogram_value.num == 32
    assert hists[-1].histogram_value.max == pytest.approx(float(model[0].weight.detach().numpy().max()))


def test_callback_checks_its_arguments():
    with pytest.raises(ValueError, match="histogram_freq"):
        TensorBoard("x", histogram_freq=-1)
    with pytest.raises(ValueError, match="update_freq"):
        TensorBoard("x", update_freq="often")


def test_train_tensorboard_writes_into_the_run_folder(tmp_path):
    from gradlab.train import recipe, run

    config = recipe.resolve_config({
        "epochs": 2, "batch_size": 128, "model": {"name": "mlp", "hidden": [8]},
        "early_stopping": {"patience": 0}, "output": str(tmp_path),
    })
    out = io.StringIO()
    run.train_run(config, run_dir=tmp_path / "run", out=out, tensorboard=True)
    run_dir = Path(tmp_path / "run")
    train = read(run_dir / "tensorboard" / "train")
    rows = (run_dir / "metrics.csv").read_text().splitlines()
    header = rows[0].split(",")
    losses = [float(r.split(",")[header.index("loss")]) for r in rows[1:]]
    assert scalars(train, "epoch_loss") == approx_curve(losses)
    assert "1.weight" in train.Tags()["histograms"]
    # the model summary: once on the console, the table in the run folder
    assert out.getvalue().count("parameters") == 1
    assert "Total params" in (run_dir / "summary.txt").read_text()


def test_cli_flag_turns_the_callback_on(tmp_path, capsys):
    from gradlab.cli import main

    code = main(["train", "--tensorboard", "--epochs", "1", "--model", "mlp", "--batch-size", "256",
                 "--patience", "0", "--output", str(tmp_path)])
    assert code == 0
    (run_dir,) = tmp_path.iterdir()
    validation = read(run_dir / "tensorboard" / "validation")
    assert [s for s, _ in scalars(validation, "epoch_accuracy")] == [0]
    printed = capsys.readouterr().out
    assert "model Sequential:" in printed and "table in summary.txt" in printed
