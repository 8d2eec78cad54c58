"""Check a network's initialization before training it.

Two checks from cs231n's "babysitting the learning process":

- the initial loss: a classifier whose initial outputs are nearly uniform
  over C classes has cross-entropy ``ln C`` (2.303 for 10 classes), whatever
  the labels; much more means the initial logits are too large (the weights'
  scale, or a bias), and the first steps will be spent undoing it;
- the variance propagation: the variance of each layer's output, and its
  ratio to the previous layer's. Glorot & Bengio (2010) choose the weight
  variance so that this ratio stays near 1 (Xavier: Var(W) = 1/fan_in for
  tanh; He et al. (2015): 2/fan_in for ReLU, which halves the variance).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from gradlab import nn
from gradlab.autograd import no_grad
from gradlab.diagnostics.activations import LayerStats, activation_stats
from gradlab.tensor import Tensor

__all__ = ["InitReport", "check_initialization"]


@dataclass
class InitReport:
    """What :func:`check_initialization` found.

    ``gains[i]`` is ``layers[i].std**2`` over the variance of what came
    before it (the input for the first layer).
    """

    initial_loss: float
    expected_loss: float
    num_classes: int
    input_variance: float
    layers: list[LayerStats]
    gains: list[float]
    tolerance: float

    @property
    def loss_ok(self) -> bool:
        """True when the initial loss is within ``tolerance`` (relative) of ln C."""
        return abs(self.initial_loss - self.expected_loss) <= self.tolerance * self.expected_loss

    def __str__(self) -> str:
        verdict = (
            "ok" if self.loss_ok else "far from it: check the scale of the last layer's weights and bias"
        )
        lines = [
            f"initial loss {self.initial_loss:.4g}, expected ln({self.num_classes}) = "
            f"{self.expected_loss:.4g}: {verdict}",
            f"input variance {self.input_variance:.4g}",
            "depth  layer                 kind        variance    gain",
        ]
        for s, g in zip(self.layers, self.gains):
            lines.append(f"{s.depth:5d}  {s.name[:20]:20s}  {s.kind[:10]:10s}  {s.std**2:10.4g}  {g:6.3g}")
        return "\n".join(lines)


def check_initialization(
    model: nn.Module,
    loader: Iterable[Any],
    loss_fn: Callable[[Any, Any], Tensor],
    num_batches: int = 1,
    tolerance: float = 0.25,
) -> InitReport:
    """Compare the initial loss with ln C and report the variance by layer.

    Args:
        model: an untrained classifier whose output's last axis has C logits.
        loader: yields ``(x, target)`` batches.
        loss_fn: e.g. ``nn.CrossEntropyLoss()``.
        num_batches: batches whose mean loss is the initial loss; the first
            one also gives the layer variances.
        tolerance: relative distance from ln C still counted as ok.

    Returns:
        an :class:`InitReport` (``print`` it for a table).
    """
    if isinstance(num_batches, bool) or not isinstance(num_batches, int) or num_batches < 1:
        raise ValueError(f"num_batches must be an integer >= 1, got {num_batches!r}")
    if not tolerance > 0:
        raise ValueError(f"tolerance must be > 0, got {tolerance!r}")
    losses: list[float] = []
    first: Any = None
    num_classes = 0
    with no_grad():
        for batch in loader:
            if not isinstance(batch, (tuple, list)) or len(batch) < 2:
                raise ValueError("loader must yield (x, target) batches")
            x, target = batch[0], batch[1]
            output = model(x)
            num_classes = int(output.shape[-1])
            losses.append(float(loss_fn(output, target).item()))
            if first is None:
                first = x
            if len(losses) == num_batches:
                break
    if first is None:
        raise ValueError("loader yielded no batch")
    if num_classes < 2:
        raise ValueError(
            f"the model's output has {num_classes} logit(s); a classifier with C >= 2 was expected"
        )
    layers = activation_stats(model, first)
    input_variance = float(first.array.var())
    gains, previous = [], input_variance
    for s in layers:
        variance = s.std**2
        gains.append(variance / previous if previous > 0 else math.inf)
        previous = variance
    return InitReport(
        sum(losses) / len(losses),
        math.log(num_classes),
        num_classes,
        input_variance,
        layers,
        gains,
        tolerance,
    )
