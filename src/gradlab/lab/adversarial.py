"""Adversarial examples: accuracy against FGSM epsilon, before and after adversarial training.

Lecture 002 ("Adversarial training"; Szegedy et al. 2014, Goodfellow, Shlens
& Szegedy 2015): a network that classifies clean inputs well misclassifies
inputs moved by an imperceptible, deliberately chosen perturbation. The fast
gradient sign method takes one step of size eps in the max-norm ball,

    x_adv = clip_[0,1]( x + eps * sign(grad_x J(theta, x, y)) ),

the worst case for a model that is linear in x: the logit of a unit with
weights w moves by eps * ||w||_1, which grows with the input dimension.
Adversarial training fits the mixture (Goodfellow et al., eq. 6)

    J~ = alpha J(theta, x, y) + (1 - alpha) J(theta, x_adv, y),  alpha = 1/2,

with x_adv made by FGSM against the current weights at every step
(``Trainer(adversarial=AdversarialTraining("fgsm", eps))``), a "local
constancy prior" that flattens the model around the training points.

Digits with pixels in [0, 1], an MLP trained normally and one trained
adversarially at eps_train = 0.1; both attacked on the validation set with
FGSM over a range of eps, and at eps_train with a 10-step PGD attack (Madry et
al. 2018) to check that the robustness is not an artefact of FGSM's single
step.
"""

from __future__ import annotations

import numpy as np

import gradlab
from gradlab import nn, optim
from gradlab.data import DataLoader, TensorDataset
from gradlab.lab._common import accuracy, digits_data, mlp, seeded
from gradlab.lab.report import Report
from gradlab.train import Trainer
from gradlab.train.adversarial import AdversarialTraining, fgsm, pgd

NAME = "adversarial"
EPS_TRAIN = 0.1
CLAMP = (0.0, 1.0)


def run(quick: bool = False, seed: int = 0) -> Report:
    report = Report(
        name=NAME, title="Adversarial examples: FGSM before and after adversarial training",
        description=f"An MLP on the 8x8 digits (pixels in [0, 1]) trained normally and with FGSM adversarial "
                    f"training at eps = {EPS_TRAIN}; validation accuracy under FGSM attacks of growing eps.",
        quick=quick, seed=seed)
    hidden, epochs = (64, 15) if quick else (128, 40)
    grid = [0.0, 0.025, 0.05, 0.1, 0.15, 0.2, 0.3] if quick else \
        [0.0, 0.01, 0.025, 0.05, 0.075, 0.1, 0.125, 0.15, 0.2, 0.25, 0.3]
    seeded(seed)
    gen = gradlab.Generator().manual_seed(seed)
    data = digits_data(seed, standardize=False)
    dataset = TensorDataset(data.x_train.numpy(), data.y_train.numpy())

    models, curves, pgd_acc = {}, {}, {}
    for kind in ("standard", "adversarial"):
        model = mlp([64, hidden, 10])
        attack = AdversarialTraining("fgsm", eps=EPS_TRAIN, alpha=0.5, clamp=CLAMP) if kind == "adversarial" \
            else None
        loader = DataLoader(dataset, batch_size=64, shuffle=True, generator=gen)
        trainer = Trainer(model, optim.Adam(model.parameters(), lr=3e-3), nn.CrossEntropyLoss(),
                          adversarial=attack)
        trainer.fit(loader, epochs=epochs)
        model.eval()
        curves[kind] = [accuracy(model, fgsm(model, data.x_val, data.y_val, eps, clamp=CLAMP), data.y_val)
                        for eps in grid]
        x_pgd = pgd(model, data.x_val, data.y_val, EPS_TRAIN, steps=10, clamp=CLAMP, generator=gen)
        pgd_acc[kind] = accuracy(model, x_pgd, data.y_val)
        models[kind] = model

    at = grid.index(EPS_TRAIN)
    std, adv = curves["standard"], curves["adversarial"]
    half = next((eps for eps, a in zip(grid, std) if a < std[0] / 2), float("nan"))
    report.numbers.update({
        "eps_train": EPS_TRAIN, "epochs": epochs, "hidden": hidden, "eps": grid,
        "fgsm_accuracy": curves, "pgd_accuracy_at_eps_train": pgd_acc,
        "clean_accuracy": {k: v[0] for k, v in curves.items()},
        "accuracy_at_eps_train": {k: v[at] for k, v in curves.items()},
        "standard_half_accuracy_eps": half,
    })
    report.table("fgsm", ["eps", "standard training", "adversarial training"],
                 [[eps, std[i], adv[i]] for i, eps in enumerate(grid)],
                 caption=f"Validation accuracy ({len(data.y_val)} digits) under FGSM; adversarial "
                         f"training used eps = {EPS_TRAIN}.")
    report.table("pgd", ["model", f"PGD-10 accuracy at eps = {EPS_TRAIN}"],
                 [[k, v] for k, v in pgd_acc.items()])

    fig, ax = report.figure("accuracy_vs_eps", "Validation accuracy against the FGSM step eps")
    ax.plot(grid, std, "o-", label="standard training")
    ax.plot(grid, adv, "s-", label=f"adversarial training (eps = {EPS_TRAIN})")
    ax.axvline(EPS_TRAIN, color="grey", ls="--", lw=1)
    ax.set(xlabel="FGSM eps (pixels in [0, 1])", ylabel="validation accuracy", ylim=(0, 1.02))
    ax.legend(fontsize=8)

    # a few examples that the standard model gets right and FGSM at eps_train turns wrong
    model = models["standard"]
    x_adv = fgsm(model, data.x_val, data.y_val, EPS_TRAIN, clamp=CLAMP)
    with gradlab.no_grad():
        clean_pred = model(data.x_val).argmax(dim=1).numpy()
        adv_pred = model(x_adv).argmax(dim=1).numpy()
    y_val = data.y_val.numpy()
    fooled = np.flatnonzero((clean_pred == y_val) & (adv_pred != y_val))[:4]
    fig, axes = report.figure("examples", "Digits the standard model reads correctly (top) and FGSM at "
                              f"eps = {EPS_TRAIN} makes it misread (bottom)", nrows=2, ncols=4,
                              size=(7.0, 4.0))
    for j in range(4):
        for row, (images, preds) in enumerate([(data.x_val.numpy(), clean_pred), (x_adv.numpy(), adv_pred)]):
            axes[row, j].axis("off")
            if j < len(fooled):
                i = fooled[j]
                axes[row, j].imshow(images[i].reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
                axes[row, j].set_title(f"pred {preds[i]}", fontsize=9)

    report.claim("Clean accuracy is high (> 95%)", std[0] > 0.95, f"{std[0]:.3f}")
    report.claim(f"Accuracy falls steeply with eps: FGSM at eps = {EPS_TRAIN} removes at least a third of it",
                 std[at] < std[0] * 2 / 3, f"{std[0]:.3f} -> {std[at]:.3f}")
    report.claim(f"Adversarial training raises FGSM accuracy at eps = {EPS_TRAIN} by more than 15 points",
                 adv[at] - std[at] > 0.15, f"{adv[at]:.3f} vs {std[at]:.3f}")
    report.claim("... with little loss of clean accuracy (at most 2 points)", adv[0] >= std[0] - 0.02,
                 f"{adv[0]:.3f} vs {std[0]:.3f}")
    report.claim(f"The gain survives a stronger attack (PGD, 10 steps, eps = {EPS_TRAIN})",
                 pgd_acc["adversarial"] - pgd_acc["standard"] > 0.15,
                 f"{pgd_acc['adversarial']:.3f} vs {pgd_acc['standard']:.3f}")
    report.note(f"The attacks clip to [0, 1], so that the perturbed images stay valid images. At the "
                f"largest eps = {grid[-1]} the accuracies are {std[-1]:.3f} (standard) and {adv[-1]:.3f} "
                "(adversarial): adversarial training buys robustness around the eps it was trained at, not "
                "far beyond it.")
    report.headline = (f"FGSM at eps = {EPS_TRAIN} drops a standard MLP from {std[0]:.1%} to {std[at]:.1%} "
                       f"validation accuracy; FGSM adversarial training keeps {adv[at]:.1%} "
                       f"(clean {adv[0]:.1%}; PGD-10: {pgd_acc['adversarial']:.1%} vs "
                       f"{pgd_acc['standard']:.1%})")
    return report
