"""MLP vs CNN on MNIST-1D, each with and without batch norm and dropout.

Greydanus (2020), Figure 2: on MNIST-1D a CNN reaches 94% test accuracy, an
MLP 68%, a linear model 32% — the spatial prior of convolution (local,
translation-equivariant features) matters because the digits are shifted and
scaled at random. The lectures' claims tested alongside: batch normalization
(Ioffe & Szegedy 2015; lecture 001) speeds up training and often improves
accuracy, and dropout (Srivastava et al. 2014; lecture 002) reduces
overfitting, i.e. the gap between training and test accuracy.

Models: the MLP 40-100-100-10 (ReLU) and the CNN of the paper (three Conv1d
of 25 channels, stride 2; :func:`gradlab.lab._common.cnn1d`), each plain, with
BatchNorm1d before every activation, with Dropout(p = 0.2) after every
activation, and with both. Training as in the paper: Adam, lr 0.01, batches
of 100, on the 4,000 training signals; accuracy on the 1,000 test signals
after the last step.
"""

from __future__ import annotations

import numpy as np

from gradlab import optim
from gradlab.lab._common import cnn1d, evaluate, mlp, mnist1d_data, seeded, single_thread, train_steps
from gradlab.lab.report import Report

NAME = "mlp-vs-cnn-mnist1d"
DROPOUT = 0.2
VARIANTS = {"plain": (False, 0.0), "batch norm": (True, 0.0), "dropout": (False, DROPOUT),
            "batch norm + dropout": (True, DROPOUT)}


def _model(kind: str, batch_norm: bool, dropout: float):  # noqa: ANN202
    if kind == "MLP":
        return mlp([40, 100, 100, 10], batch_norm=batch_norm, dropout=dropout)
    return cnn1d(batch_norm=batch_norm, dropout=dropout)


def run(quick: bool = False, seed: int = 0) -> Report:
    report = Report(name=NAME, title="MLP vs CNN on MNIST-1D, with and without batch norm and dropout",
                    description=__doc__.strip().split("\n", 1)[1].strip(), quick=quick, seed=seed)
    data = mnist1d_data()
    steps = 300 if quick else 1500
    every = steps // 10
    results: dict[str, dict] = {}
    with single_thread():
        for kind in ("MLP", "CNN"):
            for variant, (bn, p) in VARIANTS.items():
                rng = seeded(seed)
                model = _model(kind, bn, p)
                opt = optim.Adam(model.parameters(), lr=0.01)
                curve: list[float] = []

                def check(_step: int, model=model, curve=curve) -> None:  # noqa: ANN001
                    curve.append(evaluate(model, data.x_val, data.y_val)[1])

                train_steps(model, opt, data, steps, 100, rng, every=every, on_check=check)
                train_acc = evaluate(model, data.x_train, data.y_train)[1]
                results[f"{kind}, {variant}"] = {"kind": kind, "variant": variant, "train_acc": train_acc,
                                                 "test_acc": curve[-1], "gap": train_acc - curve[-1],
                                                 "curve": curve}
    report.numbers.update({"steps": steps, "dropout": DROPOUT, "check_every": every, "results": results})
    report.table("models", ["model", "train accuracy", "test accuracy", "gap (train - test)"],
                 [[name, r["train_acc"], r["test_acc"], r["gap"]] for name, r in results.items()],
                 caption=f"Adam lr 0.01, {steps} steps of batch 100; test accuracy after the last step "
                         "(paper: MLP 68%, CNN 94%).")

    fig, axes = report.figure("test_accuracy", "Test accuracy during training (left) and at the end, with "
                              "training accuracy (right)", ncols=2, size=(10.5, 4.0))
    at = [every * (i + 1) for i in range(10)]
    for i, (name, r) in enumerate(results.items()):
        style = "-" if r["kind"] == "CNN" else "--"
        axes[0].plot(at, r["curve"], style, color=f"C{i % 4}", label=name)
    axes[0].set(xlabel="Adam step", ylabel="test accuracy", title="Test accuracy", ylim=(0, 1))
    axes[0].legend(fontsize=7, ncols=2)
    names = list(results)
    pos = np.arange(len(names))
    axes[1].barh(pos + 0.2, [results[n]["test_acc"] for n in names], 0.4, label="test")
    axes[1].barh(pos - 0.2, [results[n]["train_acc"] for n in names], 0.4, label="train")
    axes[1].set_yticks(pos, names, fontsize=8)
    axes[1].invert_yaxis()
    axes[1].set(xlabel="accuracy", xlim=(0, 1.3), xticks=np.linspace(0, 1, 6), title="Final accuracy")
    axes[1].legend(fontsize=8, loc="lower right")

    def acc(kind: str, variant: str) -> float:
        return results[f"{kind}, {variant}"]["test_acc"]

    def gap(kind: str, variant: str) -> float:
        return results[f"{kind}, {variant}"]["gap"]

    report.claim("The CNN beats the MLP by a wide margin (paper: 94% vs 68%)",
                 acc("CNN", "plain") > acc("MLP", "plain") + 0.1,
                 f"{acc('CNN', 'plain'):.3f} vs {acc('MLP', 'plain'):.3f}")
    report.claim("... and every CNN variant beats every MLP variant",
                 min(acc("CNN", v) for v in VARIANTS) > max(acc("MLP", v) for v in VARIANTS),
                 f"worst CNN {min(acc('CNN', v) for v in VARIANTS):.3f}, best MLP "
                 f"{max(acc('MLP', v) for v in VARIANTS):.3f}")
    for kind in ("MLP", "CNN"):
        report.claim(f"Batch norm improves the {kind}'s test accuracy",
                     acc(kind, "batch norm") > acc(kind, "plain"),
                     f"{acc(kind, 'batch norm'):.3f} vs {acc(kind, 'plain'):.3f}")
        report.claim(f"Dropout narrows the {kind}'s train-test gap",
                     gap(kind, "dropout") < gap(kind, "plain"),
                     f"gap {gap(kind, 'dropout'):.3f} vs {gap(kind, 'plain'):.3f}")
        report.claim(f"Dropout improves the {kind}'s test accuracy",
                     acc(kind, "dropout") > acc(kind, "plain"),
                     f"{acc(kind, 'dropout'):.3f} vs {acc(kind, 'plain'):.3f}")
    plain = acc("MLP", "plain")
    noise = float(np.sqrt(plain * (1 - plain) / len(data.y_val)))
    report.note(f"Sampling error: with {len(data.y_val)} test signals, one standard error of an accuracy "
                f"near {plain:.0%} is {noise:.1%}; differences smaller than about twice that (here between "
                "the MLP variants) are not resolved by one run.")
    report.numbers["standard_error_mlp"] = noise
    best = max(results, key=lambda n: results[n]["test_acc"])
    report.headline = (f"MNIST-1D test accuracy: CNN {acc('CNN', 'plain'):.1%} vs MLP "
                       f"{acc('MLP', 'plain'):.1%} (paper 94% vs 68%); batch norm: CNN "
                       f"{acc('CNN', 'batch norm'):.1%}, MLP "
                       f"{acc('MLP', 'batch norm'):.1%}; dropout: CNN {acc('CNN', 'dropout'):.1%}, MLP "
                       f"{acc('MLP', 'dropout'):.1%}; best {best} {results[best]['test_acc']:.1%}")
    return report
