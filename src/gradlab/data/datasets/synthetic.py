"""Small synthetic data sets for quick experiments and plots.

Each draws from an explicit ``gradlab.Generator`` (default
``gradlab.default_generator``) and returns ``Splits``; inputs are float32,
class labels int64 and regression targets float32.
"""

from __future__ import annotations

import numpy as np

from gradlab.backend import Generator, default_generator
from gradlab.data.datasets.splits import Splits, shuffle_split

__all__ = ["spirals", "moons", "blobs", "sine_regression"]


def _rng(generator: Generator | None, owner: str) -> np.random.Generator:
    if generator is None:
        return default_generator.numpy
    if not isinstance(generator, Generator):
        raise TypeError(f"{owner}: generator must be a gradlab.Generator or None, "
                        f"got {type(generator).__name__}")
    return generator.numpy


def _positive(value: int, owner: str, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{owner}: {name} must be a positive int, got {value!r}")
    return int(value)


def _sklearn_seed(rng: np.random.Generator) -> int:
    # scikit-learn's generators take an int seed; drawing it from our
    # generator keeps the whole data set determined by the gradlab seed.
    return int(rng.integers(0, 2**31 - 1))


def spirals(n_samples: int = 300, n_classes: int = 3, noise: float = 0.2, test_size: float = 0.25,
            generator: Generator | None = None) -> Splits:
    """Interleaved spiral arms, one per class (the CS231n toy problem that a
    linear classifier cannot solve).

    Class k has ``n_samples // n_classes`` points at radius r in [0, 1] and
    angle ``4k + 4r`` (radians) plus Gaussian noise of std ``noise``:
    ``x = r (sin t, cos t)``.

    Returns:
        ``Splits``: x float32 (N, 2), y int64 (N,).
    """
    per_class = _positive(n_samples, "spirals", "n_samples") // _positive(n_classes, "spirals", "n_classes")
    rng = _rng(generator, "spirals")
    radius = np.tile(np.linspace(0.0, 1.0, per_class), n_classes)
    labels = np.repeat(np.arange(n_classes), per_class)
    angle = 4.0 * labels + 4.0 * radius + rng.normal(0.0, noise, size=radius.shape)
    x = np.stack([radius * np.sin(angle), radius * np.cos(angle)], axis=1).astype(np.float32)
    return shuffle_split(x, labels.astype(np.int64), test_size, rng, "spirals")


def moons(n_samples: int = 300, noise: float = 0.1, test_size: float = 0.25,
          generator: Generator | None = None) -> Splits:
    """Two interleaving half circles (scikit-learn's ``make_moons``).

    Returns:
        ``Splits``: x float32 (N, 2), y int64 (N,) in {0, 1}.
    """
    from sklearn.datasets import make_moons

    rng = _rng(generator, "moons")
    x, y = make_moons(_positive(n_samples, "moons", "n_samples"), noise=noise,
                      random_state=_sklearn_seed(rng))
    return shuffle_split(x.astype(np.float32), y.astype(np.int64), test_size, rng, "moons")


def blobs(n_samples: int = 300, centers: int = 3, n_features: int = 2, cluster_std: float = 1.0,
          test_size: float = 0.25, generator: Generator | None = None) -> Splits:
    """Isotropic Gaussian clusters (scikit-learn's ``make_blobs``), one class
    per cluster, centres uniform in [-10, 10]^n_features.

    Returns:
        ``Splits``: x float32 (N, n_features), y int64 (N,) in 0..centers-1.
    """
    from sklearn.datasets import make_blobs

    rng = _rng(generator, "blobs")
    x, y = make_blobs(_positive(n_samples, "blobs", "n_samples"), n_features=n_features,
                      centers=_positive(centers, "blobs", "centers"), cluster_std=cluster_std,
                      random_state=_sklearn_seed(rng))
    return shuffle_split(x.astype(np.float32), y.astype(np.int64), test_size, rng, "blobs")


def sine_regression(n_samples: int = 100, noise: float = 0.1, test_size: float = 0.25,
                    generator: Generator | None = None) -> Splits:
    """The regression toy of Bishop's "Pattern Recognition and Machine
    Learning" (section 1.1): ``y = sin(2 pi x) + eps``, ``x`` uniform in
    [0, 1], ``eps ~ N(0, noise^2)`` — small enough to over-fit, for studies of
    capacity and regularization.

    Returns:
        ``Splits``: x float32 (N, 1), y float32 (N, 1).
    """
    rng = _rng(generator, "sine_regression")
    n = _positive(n_samples, "sine_regression", "n_samples")
    x = rng.uniform(0.0, 1.0, size=(n, 1))
    y = np.sin(2.0 * np.pi * x) + rng.normal(0.0, noise, size=(n, 1))
    return shuffle_split(x.astype(np.float32), y.astype(np.float32), test_size, rng, "sine_regression")
