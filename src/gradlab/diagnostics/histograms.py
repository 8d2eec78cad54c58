"""Fixed-bin histograms of activations and gradients, one per layer and
sampled batch, for the "colorful dimension" pictures (fastai's
``ActivationStats(with_hist=True)``, course lesson 16): stacked over
training, the histograms of one layer form an image of value x time.

The bins of a layer must not move during training, or the image would not
show the distribution moving. Activation bins are fixed at the layer's first
sample: the output range of a tanh (-1, 1) or sigmoid (0, 1), otherwise the
first batch's range widened by half its span on each side; later values
outside fall into the end bins. Gradients are binned by ``log10 |g|`` on
one fixed scale for every layer (:data:`GRAD_EDGES`), since their size
spans orders of magnitude.
"""

from __future__ import annotations

import numpy as np

__all__ = ["ACT_BINS", "GRAD_EDGES", "activation_edges", "binned", "log_magnitude_counts"]

ACT_BINS = 40
GRAD_EDGES = np.linspace(-10.0, 1.0, 45)  # log10 |g| from 1e-10 to 10


def activation_edges(kind: str, values: np.ndarray, bins: int = ACT_BINS) -> np.ndarray:
    """The fixed bin edges of one layer, from its first sampled output."""
    if kind == "tanh":
        return np.linspace(-1.0, 1.0, bins + 1)
    if kind == "sigmoid":
        return np.linspace(0.0, 1.0, bins + 1)
    finite = values[np.isfinite(values)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (-1.0, 1.0)
    span = hi - lo if hi > lo else max(abs(hi), 1.0)
    lo = 0.0 if kind == "relu" else lo - span / 2
    return np.linspace(lo, hi + span / 2, bins + 1)


def binned(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts of the finite ``values`` in ``edges``, those outside counted
    in the end bins."""
    finite = values[np.isfinite(values)]
    return np.histogram(np.clip(finite, edges[0], edges[-1]), bins=edges)[0]


def log_magnitude_counts(grad: np.ndarray) -> np.ndarray:
    """Counts of ``log10 |g|`` in :data:`GRAD_EDGES` (exact zeros in the
    lowest bin)."""
    with np.errstate(divide="ignore"):
        magnitude = np.log10(np.abs(grad[np.isfinite(grad)]))
    return np.histogram(np.clip(magnitude, GRAD_EDGES[0], GRAD_EDGES[-1]), bins=GRAD_EDGES)[0]
