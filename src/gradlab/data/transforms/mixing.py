"""Batch mixing: MixUp and CutMix, producing soft targets.

Both take a batch ``(x, y)`` — images (N, C, H, W) and integer labels (N,)
or soft targets (N, K) — pair every image with another one of the same batch
(a random permutation, as the papers' reference code does), and return the
mixed images with targets ``lambda y_A + (1 - lambda) y_B`` of x's float
dtype, whose rows sum to 1. One lambda is drawn per batch (the papers'
choice). The last lambda (and CutMix's box) are kept as ``last_lam`` and
``last_box`` for inspection.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradlab.backend import Generator
from gradlab.data._arrays import to_host
from gradlab.data.transforms._base import check_generator, check_nonnegative, check_probability

__all__ = ["MixUp", "CutMix", "one_hot"]


def one_hot(y: np.ndarray, num_classes: int, dtype: Any = np.float32) -> np.ndarray:
    """Rows of the identity: ``one_hot(y)[i, y[i]] = 1``."""
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(f"labels must lie in [0, {num_classes}) for num_classes={num_classes}, "
                         f"got values from {y.min()} to {y.max()}")
    return np.eye(num_classes, dtype=dtype)[y]


class _Mixing:
    mixes_targets = True

    def __init__(self, alpha: float, num_classes: int | None, p: float, generator: Generator | None) -> None:
        owner = type(self).__name__
        self.alpha = check_nonnegative(alpha, owner, "alpha")
        if num_classes is not None and (isinstance(num_classes, bool) or not isinstance(num_classes, int)
                                        or num_classes < 1):
            raise ValueError(f"{owner}: num_classes must be a positive int or None, got {num_classes!r}")
        self.num_classes = num_classes
        self.p = check_probability(p, owner)
        self.generator = check_generator(generator, owner)
        self.last_lam: float | None = None

    def _targets(self, x: np.ndarray, y: Any) -> np.ndarray:
        owner = type(self).__name__
        y = to_host(y)
        if y.shape[:1] != x.shape[:1]:
            raise ValueError(f"{owner}: x and y must have the same batch size, got {x.shape[0]} and "
                             f"shape {y.shape}")
        dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.float32
        if y.ndim == 2 and np.issubdtype(y.dtype, np.floating):
            return y.astype(dtype)
        if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
            raise ValueError(f"{owner}: y must be integer labels (N,) or soft targets (N, K), "
                             f"got shape {y.shape} and dtype {y.dtype}")
        if self.num_classes is None:
            raise ValueError(f"{owner}: num_classes is needed to turn integer labels into soft targets")
        return one_hot(y, self.num_classes, dtype)

    def _check_images(self, x: Any) -> np.ndarray:
        if not isinstance(x, np.ndarray) or x.ndim < 2 or not np.issubdtype(x.dtype, np.floating):
            raise TypeError(f"{type(self).__name__}: x must be a float array (N, ...), got "
                            f"{type(x).__name__} {getattr(x, 'shape', '')} {getattr(x, 'dtype', '')}")
        return x

    def _draw_lambda(self, rng: np.random.Generator) -> float | None:
        """lambda ~ Beta(alpha, alpha), or None when this batch is not mixed."""
        if self.p < 1.0 and rng.random() >= self.p:
            return None
        if self.alpha == 0.0:
            return None  # Beta(0, 0) degenerates: the papers' code then does not mix
        return float(rng.beta(self.alpha, self.alpha))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(alpha={self.alpha}, num_classes={self.num_classes}, p={self.p})"


class MixUp(_Mixing):
    """MixUp (Zhang, Cisse, Dauphin & Lopez-Paz, "mixup: Beyond Empirical
    Risk Minimization", 2018)::

        lambda ~ Beta(alpha, alpha)
        x~ = lambda x_A + (1 - lambda) x_B
        y~ = lambda y_A + (1 - lambda) y_B

    Args:
        alpha: Beta parameter (0 disables mixing; 0.2-0.4 for ImageNet, 1
            for CIFAR in the paper).
        num_classes: width of the one-hot targets for integer labels.
        p: probability that a batch is mixed (otherwise only one-hot).
        generator: random source.

    Example:
        >>> mix = MixUp(alpha=1.0, num_classes=10, generator=Generator().manual_seed(0))
        >>> x, y = mix(np.ones((4, 1, 8, 8), np.float32), np.arange(4))
        >>> y.shape, bool(np.allclose(y.sum(axis=1), 1))
        ((4, 10), True)
    """

    def __init__(self, alpha: float = 1.0, num_classes: int | None = None, p: float = 1.0,
                 generator: Generator | None = None) -> None:
        super().__init__(alpha, num_classes, p, generator)

    def __call__(self, x: np.ndarray, y: Any) -> tuple[np.ndarray, np.ndarray]:
        x = self._check_images(x)
        targets = self._targets(x, y)
        rng = self.generator.numpy
        lam = self._draw_lambda(rng)
        if lam is None:
            self.last_lam = 1.0
            return x.copy(), targets
        perm = rng.permutation(x.shape[0])
        self.last_lam = lam
        mixed = (lam * x + (1.0 - lam) * x[perm]).astype(x.dtype, copy=False)
        return mixed, (lam * targets + (1.0 - lam) * targets[perm]).astype(targets.dtype)


class CutMix(_Mixing):
    """CutMix (Yun et al., "CutMix: Regularization Strategy to Train Strong
    Classifiers with Localizable Features", 2019)::

        x~ = M * x_A + (1 - M) * x_B,   y~ = lambda y_A + (1 - lambda) y_B

    ``M`` is 0 inside a box and 1 elsewhere. With ``lambda ~ Beta(alpha,
    alpha)`` the box has ``r_w = W sqrt(1 - lambda)``, ``r_h = H sqrt(1 -
    lambda)`` (rounded down to whole pixels) and a centre uniform over the
    pixel positions; it is clipped to the image, and lambda is then
    corrected to the share of pixels actually kept from x_A,
    ``1 - area(box) / (W H)``, as the reference code does.

    Args: as MixUp. Images must be (N, C, H, W).
    """

    def __init__(self, alpha: float = 1.0, num_classes: int | None = None, p: float = 1.0,
                 generator: Generator | None = None) -> None:
        super().__init__(alpha, num_classes, p, generator)
        self.last_box: tuple[int, int, int, int] | None = None

    def __call__(self, x: np.ndarray, y: Any) -> tuple[np.ndarray, np.ndarray]:
        x = self._check_images(x)
        if x.ndim != 4:
            raise ValueError(f"CutMix: x must be images (N, C, H, W), got shape {x.shape}")
        targets = self._targets(x, y)
        rng = self.generator.numpy
        lam = self._draw_lambda(rng)
        if lam is None:
            self.last_lam, self.last_box = 1.0, None
            return x.copy(), targets
        h, w = x.shape[2:]
        cut = np.sqrt(1.0 - lam)
        cut_h, cut_w = int(h * cut), int(w * cut)
        cy, cx = int(rng.integers(0, h)), int(rng.integers(0, w))
        top, left = np.clip(cy - cut_h // 2, 0, h), np.clip(cx - cut_w // 2, 0, w)
        bottom, right = np.clip(cy - cut_h // 2 + cut_h, 0, h), np.clip(cx - cut_w // 2 + cut_w, 0, w)
        perm = rng.permutation(x.shape[0])
        mixed = x.copy()
        mixed[:, :, top:bottom, left:right] = x[perm][:, :, top:bottom, left:right]
        lam = 1.0 - (bottom - top) * (right - left) / (h * w)
        self.last_lam, self.last_box = float(lam), (int(top), int(left), int(bottom), int(right))
        return mixed, (lam * targets + (1.0 - lam) * targets[perm]).astype(targets.dtype)
