"""Cost of data augmentation against a CNN training step (issue 5).

One epoch over 60,000 random 1x28x28 images, batch 128, shuffled, with
RandomCrop(28, padding=2) + RandomHorizontalFlip + Cutout(8) + MixUp(1.0)
versus the same epoch with no transform; images per second both ways. The
augmentation time per batch is then compared with one training step
(forward, loss, backward) of the nn benchmark's CNN —
Conv2d(1,32,3,p1)-ReLU-MaxPool2d(2)-Conv2d(32,64,3,p1)-ReLU-MaxPool2d(2)-
Flatten-Linear(3136,10) with CrossEntropyLoss — at the same batch of 128, in
gradlab.nn (or in PyTorch as a stand-in when gradlab.nn lacks the layers).
Target: augmentation adds at most 15% to a CNN step.

    python benchmarks/bench_data.py [--threads N] [--repeat R]
"""

from __future__ import annotations  # noqa: I001 - _harness must be imported before numpy and torch

import statistics
import time

import _harness  # it pins the thread counts of numpy's and torch's pools
import numpy as np

import gradlab
from gradlab.data import DataLoader, TensorDataset
from gradlab.data.transforms import Compose, Cutout, MixUp, RandomCrop, RandomHorizontalFlip

N_IMAGES, BATCH, TARGET = 60_000, 128, 0.15


def _epoch_seconds(loader: DataLoader, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _batch in loader:
            pass
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _cnn(lib):
    n = lib.nn
    return n.Sequential(n.Conv2d(1, 32, 3, padding=1), n.ReLU(), n.MaxPool2d(2),
                        n.Conv2d(32, 64, 3, padding=1), n.ReLU(), n.MaxPool2d(2),
                        n.Flatten(), n.Linear(3136, 10))


def _cnn_step_seconds(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(gradlab seconds, PyTorch seconds) of one CNN training step; gradlab
    first, before PyTorch is loaded (see ``_harness``)."""

    def step(lib):
        model, loss = _cnn(lib), lib.nn.CrossEntropyLoss()
        tx, ty = lib.tensor(x), lib.tensor(y)

        def run():
            model.zero_grad()
            loss(model(tx), ty).backward()

        return run

    ours = _harness.timeit(step(gradlab), repeat=5)
    return ours, _harness.timeit(step(_harness.torch()), repeat=5)


def main() -> None:
    repeat = max(1, min(_harness.ARGS.repeat, 5))
    rng = np.random.default_rng(0)
    images = rng.random((N_IMAGES, 1, 28, 28), dtype=np.float32)
    labels = rng.integers(0, 10, N_IMAGES)
    dataset = TensorDataset(images, labels)
    g = gradlab.Generator().manual_seed(0)
    augment = Compose([RandomCrop(28, padding=2, generator=g), RandomHorizontalFlip(generator=g),
                       Cutout(8, generator=g), MixUp(1.0, num_classes=10, generator=g)])
    plain = DataLoader(dataset, batch_size=BATCH, shuffle=True, generator=gradlab.Generator().manual_seed(1))
    augmented = DataLoader(dataset, batch_size=BATCH, shuffle=True,
                           generator=gradlab.Generator().manual_seed(1), transform=augment)
    batches = len(plain)
    t_plain = _epoch_seconds(plain, repeat)
    t_aug = _epoch_seconds(augmented, repeat)
    per_batch = (t_aug - t_plain) / batches
    step, torch_step = _cnn_step_seconds(images[:BATCH], labels[:BATCH])
    cnn_epoch = t_plain + batches * step
    ratio = per_batch / step
    fmt = _harness._fmt
    print(f"\n### Data augmentation vs a CNN step  (threads={_harness.THREADS}, median of {repeat} epochs)\n")
    print(f"{N_IMAGES:,} random 1x28x28 float32 images, batch {BATCH}, {batches} batches per epoch; "
          "augmentation = RandomCrop(28, padding=2) + RandomHorizontalFlip + Cutout(8) + MixUp(1.0)\n")
    print("| case | time | images/s |")
    print("|---|---:|---:|")
    print(f"| epoch, no transform | {fmt(t_plain)} | {N_IMAGES / t_plain:,.0f} |")
    print(f"| epoch, augmented | {fmt(t_aug)} | {N_IMAGES / t_aug:,.0f} |")
    print(f"| augmentation per batch of {BATCH} | {fmt(per_batch)} | |")
    print(f"| CNN step (fwd+loss+bwd), batch {BATCH}, gradlab.nn | {fmt(step)} | {BATCH / step:,.0f} |")
    print(f"| CNN step, batch {BATCH}, PyTorch (reference) | {fmt(torch_step)} | {BATCH / torch_step:,.0f} |")
    print()
    print("| ratio | value | target | ok |")
    print("|---|---:|---:|:-:|")
    print(f"| augmentation per batch / CNN step (gradlab) | {ratio:.3f} | "
          f"<= {TARGET} | {'yes' if ratio <= TARGET else 'NO'} |")
    print(f"| added to a CNN epoch (plain loader + {batches} steps) | {(t_aug - t_plain) / cnn_epoch:.3f} | "
          f"<= {TARGET} | {'yes' if (t_aug - t_plain) / cnn_epoch <= TARGET else 'NO'} |")
    print(f"| augmentation per batch / CNN step (PyTorch) | {per_batch / torch_step:.3f} | | |")


if __name__ == "__main__":
    main()
