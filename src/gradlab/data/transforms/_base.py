"""What every batch transform shares: argument checks, the explicit random
generator, and the per-image probability of being transformed."""

from __future__ import annotations

from typing import Any

import numpy as np

from gradlab.backend import Generator, default_generator


def check_generator(generator: Any, owner: str) -> Generator:
    if generator is None:
        return default_generator
    if not isinstance(generator, Generator):
        raise TypeError(f"{owner}: generator must be a gradlab.Generator or None, "
                        f"got {type(generator).__name__}")
    return generator


def check_probability(p: Any, owner: str, name: str = "p") -> float:
    if isinstance(p, bool) or not isinstance(p, (int, float, np.floating, np.integer)) or not 0.0 <= p <= 1.0:
        raise ValueError(f"{owner}: {name} must be a probability in [0, 1], got {p!r}")
    return float(p)


def check_nonnegative(value: Any, owner: str, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)) or value < 0:
        raise ValueError(f"{owner}: {name} must be a non-negative number, got {value!r}")
    return float(value)


def as_range(value: Any, owner: str, name: str, center: float = 0.0,
             lower: float | None = None) -> tuple[float, float]:
    """A number v means the range (center - v, center + v); a pair is a range."""
    if isinstance(value, (int, float, np.floating, np.integer)) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"{owner}: {name} must be non-negative when a single number, got {value!r}")
        low, high = center - float(value), center + float(value)
    elif isinstance(value, (tuple, list)) and len(value) == 2:
        low, high = float(value[0]), float(value[1])
    else:
        raise ValueError(f"{owner}: {name} must be a number or a (min, max) pair, got {value!r}")
    if low > high:
        raise ValueError(f"{owner}: {name} range must have min <= max, got {value!r}")
    if lower is not None:
        low = max(low, lower)
        if high < lower:
            raise ValueError(f"{owner}: {name} range must reach above {lower}, got {value!r}")
    return low, high


def as_image_batch(x: Any, owner: str) -> tuple[np.ndarray, bool]:
    """A float NCHW batch; a single CHW image is accepted as a batch of one
    (the flag says to take the batch axis off again)."""
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{owner}: expected a NumPy array of images (N, C, H, W), got {type(x).__name__}")
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"{owner}: expected a floating-point image array, got dtype {x.dtype}; "
                        "convert with x.astype(np.float32) / 255 first")
    if x.ndim == 3:
        return x[None], True
    if x.ndim != 4:
        raise ValueError(f"{owner}: expected images of shape (N, C, H, W) or (C, H, W), got shape {x.shape}")
    return x, False


class BatchTransform:
    """Base of the random augmentations.

    Subclasses implement ``_apply(x, rng)`` on the selected images of a
    float NCHW batch and return the transformed images (same shape and
    dtype). Each image is selected independently with probability ``p``;
    the others pass through unchanged. The input array is never modified.
    """

    mixes_targets = False

    def __init__(self, p: float, generator: Generator | None) -> None:
        self.p = check_probability(p, type(self).__name__)
        self.generator = check_generator(generator, type(self).__name__)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        batch, single = as_image_batch(x, type(self).__name__)
        rng = self.generator.numpy
        if self.p >= 1.0:
            out = self._apply(batch, rng).astype(batch.dtype, copy=False)
        else:
            chosen = rng.random(batch.shape[0]) < self.p
            out = batch.copy()
            if chosen.any():
                out[chosen] = self._apply(batch[chosen], rng)
        return out[0] if single else out

    def _apply(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError

    def _params(self) -> str:
        return f"p={self.p}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._params()})"
