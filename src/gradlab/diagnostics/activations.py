"""Per-layer statistics of a network's activations.

What cs231n's "activation statistics" lecture plots: for each layer, the mean
and standard deviation of its output and a histogram, to see whether the
signal keeps its scale through depth (Glorot & Bengio, 2010, "Understanding
the difficulty of training deep feedforward neural networks"). Two
pathologies are counted directly:

- saturation: a tanh output with ``|y| > 1 - eps`` or a sigmoid output with
  ``y < eps`` or ``y > 1 - eps``, where the local derivative is nearly 0;
- dead ReLUs: units (every output position except the batch axis) that are
  0 for every example of the batch, so no gradient reaches their weights.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gradlab import backend, nn
from gradlab.autograd import no_grad
from gradlab.tensor import Tensor

__all__ = ["LayerStats", "activation_stats", "record_activations"]

# kind of a module, by the activation it applies
_KINDS: dict[type, str] = {nn.Tanh: "tanh", nn.Sigmoid: "sigmoid", nn.ReLU: "relu"}


@dataclass
class LayerStats:
    """Statistics of one layer's output on one batch.

    ``saturated`` is None for layers that are not tanh or sigmoid, ``dead``
    None for layers that are not ReLU. ``histogram`` is ``(counts, edges)``
    as ``numpy.histogram`` returns them.
    """

    name: str
    kind: str
    depth: int
    mean: float
    std: float
    histogram: tuple[np.ndarray, np.ndarray] = field(repr=False)
    saturated: float | None = None
    dead: float | None = None


def module_kind(module: nn.Module) -> str:
    """``"tanh"``, ``"sigmoid"``, ``"relu"``, or the class name in lower case."""
    for cls, kind in _KINDS.items():
        if isinstance(module, cls):
            return kind
    return type(module).__name__.lower()


def summarize(name: str, kind: str, depth: int, output: Any, bins: int = 30, eps: float = 0.01) -> LayerStats:
    """The :class:`LayerStats` of one output array (batch axis first)."""
    y = np.asarray(backend.to_device(output, backend.CPU), dtype=np.float64)
    saturated = dead = None
    if kind == "tanh":
        saturated = float(np.mean(np.abs(y) > 1.0 - eps))
    elif kind == "sigmoid":
        saturated = float(np.mean((y < eps) | (y > 1.0 - eps)))
    elif kind == "relu":
        units = y.reshape(y.shape[0], -1) if y.ndim > 1 else y.reshape(-1, 1)
        dead = float(np.mean(np.all(units == 0.0, axis=0)))
    finite = y[np.isfinite(y)]
    histogram = np.histogram(finite, bins=bins) if finite.size else (np.zeros(bins), np.zeros(bins + 1))
    return LayerStats(name, kind, depth, float(y.mean()), float(y.std()), histogram, saturated, dead)


def _leaves(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """The modules without children (the layers that compute), in order of
    registration; the model itself if it has none."""
    leaves = [(name, m) for name, m in model.named_modules() if not list(m.children())]
    return leaves or [("", model)]


@contextmanager
def record_activations(model: nn.Module, sink: Callable[[str, nn.Module, Any], None]) -> Iterator[None]:
    """Call ``sink(name, module, output_array)`` after the forward of every
    leaf layer of ``model`` while the block runs (forward hooks, removed on
    exit). Outputs that are not a single Tensor are skipped."""
    handles = []
    for name, module in _leaves(model):

        def hook(mod: nn.Module, args: Any, out: Any, _name: str = name) -> None:
            if isinstance(out, Tensor):
                sink(_name, mod, out.array)

        handles.append(module.register_forward_hook(hook))
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


def activation_stats(model: nn.Module, x: Tensor, bins: int = 30, eps: float = 0.01) -> list[LayerStats]:
    """Run ``model(x)`` once without gradients and describe every layer's output.

    The layers are the leaf modules, in the order they ran (``depth`` counts
    from 0). The model keeps its mode (``train()`` or ``eval()``): batch norm
    and dropout behave as they would at that point of training.

    Args:
        model: the network.
        x: one batch of inputs.
        bins: histogram bins per layer.
        eps: distance from the bounds (tanh: +-1, sigmoid: 0 and 1) that
            counts as saturated.

    Returns:
        one :class:`LayerStats` per layer call.

    Example:
        >>> for s in activation_stats(model, x):
        ...     print(f"{s.depth} {s.name:10s} {s.std:.3g}")
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a gradlab.nn.Module, got {type(model).__name__}")
    if not isinstance(x, Tensor):
        raise TypeError(f"x must be a gradlab.Tensor batch, got {type(x).__name__}")
    if isinstance(bins, bool) or not isinstance(bins, int) or bins < 1:
        raise ValueError(f"bins must be an integer >= 1, got {bins!r}")
    if not 0.0 < eps < 0.5:
        raise ValueError(f"eps must be in (0, 0.5), got {eps!r}")
    stats: list[LayerStats] = []

    def sink(name: str, module: nn.Module, out: Any) -> None:
        stats.append(summarize(name, module_kind(module), len(stats), out, bins, eps))

    with record_activations(model, sink), no_grad():
        model(x)
    return stats
