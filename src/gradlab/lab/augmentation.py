r"""Data augmentation: none vs translate, Cutout, MixUp, CutMix (and flip) on 100 training digits.

Reproduces, at the scale of 8x8 digits, the comparison of lecture 001's
CutMix table (Yun et al. 2019, ResNet-50 ImageNet top-1 accuracy: 76.3%
plain, 77.4% Mixup, 77.1% Cutout, 78.6% CutMix): with little data each
augmentation acts as a regularizer, and the best of them lowers the
validation error.

A small CNN (two blocks of conv 3x3 - ReLU - max-pool 2, then a linear
layer) is trained on 100 training digits (Adam 0.01 with cosine decay,
batches of 50, 100 epochs), the augmentation applied to every batch by the
``DataLoader``'s ``transform``:

- translate: ``RandomCrop(8, padding=1)``, a shift of up to one pixel in
  each direction (the lecture's crop / translation), padded with the
  background value;
- Cutout (DeVries & Taylor 2017): ``Cutout(3)``, a 3x3 square set to the
  background;
- MixUp (Zhang et al. 2018): :math:`\tilde x = \lambda x_A + (1-\lambda)
  x_B`, :math:`\tilde y = \lambda y_A + (1-\lambda) y_B`,
  :math:`\lambda \sim Beta(1, 1)`;
- CutMix: :math:`\tilde x = M \odot x_A + (1-M) \odot x_B`, M zero in a box
  of sides :math:`W\sqrt{1-\lambda}, H\sqrt{1-\lambda}`, the label mixed by
  the share of pixels kept.

MixUp and CutMix give soft targets; ``F.cross_entropy`` takes class
probabilities as targets, :math:`-\sum_c \tilde y_c \log p_c`.

Horizontal flip, the lecture's first augmentation for natural images, does
not preserve the label of a digit (lecture 002: "be careful not to alter the
correct output", b and d): a mirrored 3 is no digit, a mirrored 2 resembles
a 5. The full run includes it as a control, with the claim that it hurts. The validation
error is measured on the 360 validation digits, averaged over seeds (each
seed draws its own training subset, initialization and augmentations):
one seed in the quick run, five in the full run.
"""

from __future__ import annotations

import numpy as np

import gradlab
from gradlab import nn, optim
from gradlab.data import DataLoader, TensorDataset
from gradlab.data import transforms as T
from gradlab.lab import _common as C
from gradlab.lab.report import Report
from gradlab.nn import functional as F
from gradlab.optim.lr_scheduler import CosineAnnealingLR
from gradlab.train import Trainer

NAME = "augmentation"
N_TRAIN, BATCH, LR, EPOCHS = 100, 50, 1e-2, 100
LABEL_PRESERVING = ("translate", "cutout", "mixup", "cutmix")
# quick: one seed, no flip control; full: the mean over five seeds
SEEDS = {True: 1, False: 5}
METHODS = {True: ("none", *LABEL_PRESERVING), False: ("none", *LABEL_PRESERVING, "flip")}
TARGETS = {"none": "one-hot", "translate": "one-hot", "cutout": "one-hot", "mixup": "lambda / 1 - lambda",
           "cutmix": "area share", "flip": "one-hot"}


def augmentation(method: str, background: float, generator: gradlab.Generator):  # noqa: ANN201
    """The batch transform of ``method`` (None for "none")."""
    return {
        "none": lambda: None,
        "translate": lambda: T.RandomCrop(8, padding=1, fill=background, generator=generator),
        "cutout": lambda: T.Cutout(3, fill=background, generator=generator),
        "mixup": lambda: T.MixUp(alpha=1.0, num_classes=10, generator=generator),
        "cutmix": lambda: T.CutMix(alpha=1.0, num_classes=10, generator=generator),
        "flip": lambda: T.RandomHorizontalFlip(generator=generator),
    }[method]()


def cnn() -> nn.Sequential:
    """Two blocks of conv 3x3 - ReLU - max-pool 2 (16 and 32 channels), then
    a linear layer: 8x8 digits to 10 logits."""
    return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(32 * 2 * 2, 10))


def train(method: str, seed: int, epochs: int = EPOCHS) -> float:
    """Validation error of the CNN trained with ``method`` on the training
    subset of ``seed``."""
    data = C.digits_data(seed, n_train=N_TRAIN, flat=False)
    background = float(data.x_train.numpy().min())  # a 0 pixel after standardization
    C.seeded(seed)
    model = cnn()
    opt = optim.Adam(model.parameters(), lr=LR)
    loader = DataLoader(TensorDataset(data.x_train, data.y_train), batch_size=BATCH, shuffle=True,
                        generator=gradlab.Generator().manual_seed(seed),
                        transform=augmentation(method, background, gradlab.Generator().manual_seed(seed + 1)))
    schedule = CosineAnnealingLR(opt, T_max=epochs)
    Trainer(model, opt, F.cross_entropy, scheduler=schedule).fit(loader, epochs=epochs)
    return 1.0 - C.accuracy(model, data.x_val, data.y_val)


def _examples(report: Report, methods: tuple[str, ...], seed: int) -> None:
    data = C.digits_data(seed, n_train=N_TRAIN, flat=False)
    x, y = data.x_train.numpy()[:6], data.y_train.numpy()[:6]
    background = float(data.x_train.numpy().min())
    _, axes = report.figure("examples", "The same six training digits under each augmentation (MixUp and "
                            "CutMix pair each image with another of the batch; titles give the soft target)",
                            nrows=len(methods), ncols=6, size=(7.5, 1.35 * len(methods)))
    for row, method in enumerate(methods):
        transform = augmentation(method, background, gradlab.Generator().manual_seed(seed))
        if transform is None:
            images, targets = x, np.eye(10)[y]
        elif getattr(transform, "mixes_targets", False):
            images, targets = transform(x, y)
        else:
            images, targets = transform(x), np.eye(10)[y]
        for col in range(6):
            ax = axes[row, col]
            ax.imshow(images[col, 0], cmap="gray_r")
            ax.set_xticks([])
            ax.set_yticks([])
            top = np.argsort(targets[col])[::-1][:2]
            ax.set_title(" ".join(f"{k}:{targets[col][k]:.2f}" for k in top if targets[col][k] > 0.005),
                         fontsize=6)
        axes[row, 0].set_ylabel(method, fontsize=8)


def run(quick: bool = False, seed: int = 0) -> Report:
    """Run the experiment (see the module docstring) and return its report."""
    seeds, methods = list(range(seed, seed + SEEDS[bool(quick)])), METHODS[bool(quick)]
    report = Report(NAME, "Data augmentation on a small training set: translate, Cutout, MixUp, CutMix",
                    f"A small CNN trained on {N_TRAIN} digits with each augmentation; validation error on "
                    f"the 360 validation digits, mean over {len(seeds)} seed(s).", quick=quick, seed=seed)
    errors = {m: [train(m, s) for s in seeds] for m in methods}
    mean = {m: float(np.mean(e)) for m, e in errors.items()}
    best = min(LABEL_PRESERVING, key=mean.get)
    report.numbers.update({"seeds": seeds, "n_train": N_TRAIN, "epochs": EPOCHS, "val_error": errors,
                           "mean_val_error": mean, "best": best})
    report.table("val error", ["method", "target", "val error (%)", "vs none (points)", "per seed (%)"],
                 [[m, TARGETS[m], 100 * mean[m], 100 * (mean["none"] - mean[m]),
                   " / ".join(f"{100 * e:.1f}" for e in errors[m])] for m in methods],
                 f"Validation error of the CNN on {N_TRAIN} training digits, mean over seeds {seeds}; "
                 "'vs none' is positive when the augmentation lowers the error (as the CutMix table's "
                 "'+' gains).")
    report.claim("The best augmentation beats no augmentation on the small training set",
                 mean[best] < mean["none"],
                 f"{best}: {100 * mean[best]:.1f}% vs none {100 * mean['none']:.1f}% val error")
    average = float(np.mean([mean[m] for m in LABEL_PRESERVING]))
    report.numbers["mean_label_preserving"] = average
    report.claim("On average the four label-preserving augmentations lower the error",
                 average < mean["none"], f"{100 * average:.1f}% vs {100 * mean['none']:.1f}%")
    headline = (f"On {N_TRAIN} training digits, {best} lowers the val error from {100 * mean['none']:.1f}% "
                f"to {100 * mean[best]:.1f}%")
    if "flip" in mean:
        report.claim("Horizontal flip, which is not label-preserving for digits, raises the error",
                     mean["flip"] > mean["none"],
                     f"{100 * mean['flip']:.1f}% vs {100 * mean['none']:.1f}% without augmentation")
        headline += f"; horizontal flip raises it to {100 * mean['flip']:.1f}%"
    report.headline = headline + (f" (mean of {len(seeds)} seeds)." if len(seeds) > 1 else f" (seed {seed}).")
    ranking = sorted(mean, key=mean.get)
    report.note("Ranking in this run, lowest val error first: " + ", ".join(
        f"{m} ({100 * mean[m]:.1f}%)" for m in ranking) + ". (The CutMix table's ImageNet ranking: CutMix, "
        "Mixup, Cutout, none.) Only the best-vs-none and average-vs-none comparisons are claimed; compare "
        "the per-seed column before reading anything into the order of the augmentations.")
    _, ax = report.figure("val_error", "Validation error by augmentation (bars: mean; dots: seeds)")
    ax.bar(range(len(methods)), [100 * mean[m] for m in methods], color=[
        "gray" if m == "none" else "C3" if m == "flip" else "C0" for m in methods])
    for i, m in enumerate(methods):
        ax.plot([i] * len(seeds), [100 * e for e in errors[m]], "k.")
    ax.set_xticks(range(len(methods)), methods)
    ax.set_ylabel("val error (%)")
    _examples(report, METHODS[False], seed)
    return report
