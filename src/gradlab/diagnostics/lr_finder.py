"""The learning-rate range test (Smith, 2017, "Cyclical Learning Rates for
Training Neural Networks", section 3.3; the form popularised by fastai).

Train for ``num_iter`` batches while the learning rate grows exponentially,

    lr_i = start_lr * (end_lr / start_lr) ** (i / (num_iter - 1)),

and record the loss smoothed by a debiased exponential moving average
(``avg = beta * avg + (1 - beta) * loss``, reported as
``avg / (1 - beta ** (i + 1))``). The sweep stops once the smoothed loss
exceeds ``diverge_threshold`` times its best value. The suggested rate is
where the smoothed loss falls fastest against ``log lr`` (fastai's
"steep" suggestion), taken before the minimum. Smith reads the range off
the plot instead; the suggestion is a starting point for that reading.

The model's weights and buffers, the optimizer's state and rates, the
default generator and the loader's generator are restored afterwards, so
the test leaves the run as it found it.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gradlab import backend, nn
from gradlab.autograd import no_grad
from gradlab.optim import Optimizer
from gradlab.tensor import Tensor

__all__ = ["LRFinderResult", "lr_find"]


@dataclass
class LRFinderResult:
    """The sweep: ``lrs[i]`` was used for the batch whose raw loss is
    ``losses[i]`` and smoothed loss ``smoothed[i]``."""

    lrs: list[float]
    losses: list[float]
    smoothed: list[float]
    suggestion: float | None
    diverged: bool

    def plot(self, path: str | Path) -> Path:
        """Write the smoothed loss against the (log) learning rate to a PNG."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        path = Path(path)
        fig, ax = plt.subplots(figsize=(6, 4))
        ax.plot(self.lrs, self.smoothed, label="smoothed loss")
        if self.suggestion is not None:
            ax.axvline(self.suggestion, color="red", linestyle="--", label=f"suggested {self.suggestion:.2g}")
        ax.set_xscale("log")
        ax.set_xlabel("learning rate")
        ax.set_ylabel("loss")
        ax.set_title("learning-rate range test")
        ax.legend()
        fig.tight_layout()
        fig.savefig(path, dpi=100)
        plt.close(fig)
        return path


def _cycle(loader: Iterable[Any]) -> Iterator[Any]:
    while True:
        empty = True
        for batch in loader:
            empty = False
            yield batch
        if empty:
            raise ValueError("loader yielded no batch")


def _suggest(lrs: list[float], smoothed: list[float], skip_start: int, skip_end: int) -> float | None:
    """The rate of steepest descent of the smoothed loss in log lr, before its minimum."""
    values = np.asarray(smoothed, dtype=np.float64)
    end = int(np.argmin(values)) + 1 if np.isfinite(values).any() else 0
    end = min(end, len(values) - skip_end)
    if end - skip_start < 3:
        return None
    logs = np.log(np.asarray(lrs[skip_start:end]))
    slope = np.gradient(values[skip_start:end], logs)
    return float(lrs[skip_start + int(np.argmin(slope))])


def lr_find(
    model: nn.Module,
    optimizer: Optimizer,
    loader: Iterable[Any],
    loss_fn: Callable[[Any, Any], Tensor],
    start_lr: float = 1e-7,
    end_lr: float = 10.0,
    num_iter: int = 100,
    beta: float = 0.98,
    diverge_threshold: float = 4.0,
    skip_start: int = 5,
    skip_end: int = 2,
    plot: str | Path | None = None,
) -> LRFinderResult:
    """Run the range test and restore everything it changed.

    Args:
        model, optimizer, loss_fn: as for training; every parameter group
            of ``optimizer`` gets the swept rate.
        loader: yields ``(x, target)`` batches; it is cycled if it has fewer
            than ``num_iter`` batches.
        start_lr, end_lr: the ends of the exponential sweep.
        num_iter: batches of the sweep (at most).
        beta: smoothing factor of the loss average.
        diverge_threshold: stop once the smoothed loss exceeds this many
            times its best value (or is not finite).
        skip_start, skip_end: points left out when choosing the suggestion.
        plot: a PNG path for the curve, or None.

    Returns:
        an :class:`LRFinderResult` with the curve and the suggested rate
        (None if the curve never fell).
    """
    if not 0 < start_lr < end_lr:
        raise ValueError(
            f"start_lr and end_lr must satisfy 0 < start_lr < end_lr, got {start_lr!r}, {end_lr!r}"
        )
    if isinstance(num_iter, bool) or not isinstance(num_iter, int) or num_iter < 2:
        raise ValueError(f"num_iter must be an integer >= 2, got {num_iter!r}")
    if not 0 <= beta < 1:
        raise ValueError(f"beta must be in [0, 1), got {beta!r}")
    if not diverge_threshold > 1:
        raise ValueError(f"diverge_threshold must be > 1, got {diverge_threshold!r}")
    weights = {k: v.array.copy() for k, v in model.state_dict().items()}
    opt_state = optimizer.state_dict()
    default_state = backend.default_generator.get_state()
    loader_gen = getattr(loader, "generator", None)
    loader_state = (
        copy.deepcopy(loader_gen.get_state()) if isinstance(loader_gen, backend.Generator) else None
    )
    was_training = model.training
    lrs: list[float] = []
    losses: list[float] = []
    smoothed: list[float] = []
    diverged = False
    try:
        model.train()
        average, best = 0.0, math.inf
        batches = _cycle(loader)
        for i in range(num_iter):
            lr = start_lr * (end_lr / start_lr) ** (i / (num_iter - 1))
            for group in optimizer.param_groups:
                group["lr"] = lr
            x, target = next(batches)[:2]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(x), target)
            value = float(loss.item())
            lrs.append(lr)
            losses.append(value)
            if not math.isfinite(value):
                smoothed.append(math.inf)
                diverged = True
                break
            average = beta * average + (1 - beta) * value
            current = average / (1 - beta ** (i + 1))
            smoothed.append(current)
            if current > diverge_threshold * best:
                diverged = True
                break
            best = min(best, current)
            loss.backward()
            optimizer.step()
    finally:
        current_state = model.state_dict()
        with no_grad():
            for key, array in weights.items():
                current_state[key].array[...] = array
        optimizer.zero_grad(set_to_none=True)
        optimizer.load_state_dict(opt_state)
        backend.default_generator.set_state(default_state)
        if loader_state is not None:
            loader_gen.set_state(loader_state)
        model.train(was_training)
    result = LRFinderResult(lrs, losses, smoothed, _suggest(lrs, smoothed, skip_start, skip_end), diverged)
    if plot is not None:
        result.plot(plot)
    return result
