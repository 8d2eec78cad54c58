"""Photometric augmentations: colour jitter and AlexNet's Fancy PCA."""

from __future__ import annotations

from typing import Any

import numpy as np

from gradlab.backend import Generator
from gradlab.data.transforms._base import BatchTransform, as_image_batch, as_range, check_nonnegative

__all__ = ["ColorJitter", "FancyPCA", "rgb_to_hsv", "hsv_to_rgb"]

# ITU-R 601 luma weights, as torchvision's rgb_to_grayscale.
_LUMA = np.array([0.299, 0.587, 0.114])


def _grayscale(x: np.ndarray) -> np.ndarray:
    if x.shape[1] == 1:
        return x
    return np.einsum("nchw,c->nhw", x, _LUMA.astype(x.dtype))[:, None]


def rgb_to_hsv(x: np.ndarray) -> np.ndarray:
    """RGB in [0, 1] to HSV in [0, 1], channel axis 1 (torchvision's formulas)."""
    r, g, b = x[:, 0], x[:, 1], x[:, 2]
    maxc, minc = x.max(axis=1), x.min(axis=1)
    grey = maxc == minc
    chroma = maxc - minc
    s = chroma / np.where(grey, 1.0, maxc)
    divisor = np.where(grey, 1.0, chroma)
    rc, gc, bc = (maxc - r) / divisor, (maxc - g) / divisor, (maxc - b) / divisor
    h = np.where(maxc == r, bc - gc, np.where(maxc == g, 2.0 + rc - bc, 4.0 + gc - rc))
    h = np.mod(h / 6.0, 1.0)
    return np.stack([h, s, maxc], axis=1)


def hsv_to_rgb(x: np.ndarray) -> np.ndarray:
    """Inverse of ``rgb_to_hsv``."""
    h, s, v = x[:, 0], x[:, 1], x[:, 2]
    sector = np.floor(h * 6.0)
    f = h * 6.0 - sector
    sector = sector.astype(np.int64) % 6
    p = np.clip(v * (1.0 - s), 0.0, 1.0)
    q = np.clip(v * (1.0 - s * f), 0.0, 1.0)
    t = np.clip(v * (1.0 - s * (1.0 - f)), 0.0, 1.0)
    r = np.choose(sector, [v, q, p, p, t, v])
    g = np.choose(sector, [t, v, v, q, p, p])
    b = np.choose(sector, [p, p, t, v, v, q])
    return np.stack([r, g, b], axis=1)


class ColorJitter(BatchTransform):
    """Randomly change brightness, contrast, saturation and hue, as
    torchvision's ``ColorJitter``, with factors drawn per image.

    With factor f drawn uniformly from ``[max(0, 1 - b), 1 + b]`` for a
    number b (or from a given (min, max)):

    - brightness: ``x * f``
    - contrast: ``f x + (1 - f) mean(gray(x))``
    - saturation: ``f x + (1 - f) gray(x)`` (gray = 0.299 R + 0.587 G + 0.114 B)
    - hue: rotate H in HSV by ``h`` uniform in ``[-hue, hue]`` (``hue <= 0.5``)

    The four are applied in a random order drawn once per batch (torchvision
    draws it per call too), and the result is clipped to [0, 1] after each,
    so the images are expected in [0, 1], before normalization. Saturation and
    hue leave one-channel images unchanged, as torchvision does.

    Args:
        brightness, contrast, saturation: a number b or a (min, max) range.
        hue: a number h in [0, 0.5] or a (min, max) range within [-0.5, 0.5].
        p: probability that an image is jittered.
        generator: random source.
    """

    def __init__(self, brightness: Any = 0.0, contrast: Any = 0.0, saturation: Any = 0.0,
                 hue: Any = 0.0, p: float = 1.0, generator: Generator | None = None) -> None:
        super().__init__(p, generator)
        self.brightness = as_range(brightness, "ColorJitter", "brightness", center=1.0, lower=0.0)
        self.contrast = as_range(contrast, "ColorJitter", "contrast", center=1.0, lower=0.0)
        self.saturation = as_range(saturation, "ColorJitter", "saturation", center=1.0, lower=0.0)
        self.hue = as_range(hue, "ColorJitter", "hue")
        if self.hue[0] < -0.5 or self.hue[1] > 0.5:
            raise ValueError(f"ColorJitter: hue must lie in [-0.5, 0.5], got {hue!r}")

    def _apply(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        n, c = x.shape[:2]
        if c not in (1, 3) and (self.saturation != (1.0, 1.0) or self.hue != (0.0, 0.0)):
            raise ValueError(f"ColorJitter: saturation and hue need 1 or 3 channels, got {c}")
        out = x.astype(np.float64)
        for op in rng.permutation(4):
            if op == 0 and self.brightness != (1.0, 1.0):
                f = rng.uniform(*self.brightness, size=(n, 1, 1, 1))
                out = np.clip(out * f, 0.0, 1.0)
            elif op == 1 and self.contrast != (1.0, 1.0):
                f = rng.uniform(*self.contrast, size=(n, 1, 1, 1))
                mean = _grayscale(out).mean(axis=(1, 2, 3), keepdims=True)
                out = np.clip(f * out + (1.0 - f) * mean, 0.0, 1.0)
            elif op == 2 and self.saturation != (1.0, 1.0) and c == 3:
                f = rng.uniform(*self.saturation, size=(n, 1, 1, 1))
                out = np.clip(f * out + (1.0 - f) * _grayscale(out), 0.0, 1.0)
            elif op == 3 and self.hue != (0.0, 0.0) and c == 3:
                shift = rng.uniform(*self.hue, size=(n, 1, 1))
                hsv = rgb_to_hsv(out)
                hsv[:, 0] = np.mod(hsv[:, 0] + shift, 1.0)
                out = hsv_to_rgb(hsv)
        return out.astype(x.dtype)

    def _params(self) -> str:
        return (f"brightness={self.brightness}, contrast={self.contrast}, saturation={self.saturation}, "
                f"hue={self.hue}, p={self.p}")


class FancyPCA(BatchTransform):
    """AlexNet's lighting augmentation, "Fancy PCA" (Krizhevsky, Sutskever &
    Hinton, "ImageNet Classification with Deep Convolutional Neural
    Networks", 2012, section 4.1).

    ``fit`` computes the covariance of the RGB values of all training pixels
    and its eigenpairs ``(lambda_i, p_i)``. Each call adds to every pixel of
    an image the same colour vector

        delta = sum_i p_i * a_i * lambda_i,   a_i ~ N(0, alpha_std^2),

    with fresh ``a_i`` per image, which changes the intensity and colour of
    the lighting but not the picture. As in the paper ``alpha_std`` is a
    standard deviation (0.1); the lecture slides say variance 0.1. Many
    implementations use ``sqrt(lambda_i)`` (a standard deviation along
    ``p_i``) instead of the paper's ``lambda_i``; gradlab keeps the paper's.

    Args:
        alpha_std: standard deviation of the ``a_i``.
        eigenvalues, eigenvectors: precomputed PCA (eigenvectors as columns),
            instead of calling ``fit``.
        p: probability that an image is shifted.
        generator: random source.
    """

    def __init__(self, alpha_std: float = 0.1, eigenvalues: Any = None, eigenvectors: Any = None,
                 p: float = 1.0, generator: Generator | None = None) -> None:
        super().__init__(p, generator)
        self.alpha_std = check_nonnegative(alpha_std, "FancyPCA", "alpha_std")
        self.eigenvalues: np.ndarray | None = None
        self.eigenvectors: np.ndarray | None = None
        if (eigenvalues is None) != (eigenvectors is None):
            raise ValueError("FancyPCA: give both eigenvalues and eigenvectors, or neither (then call fit)")
        if eigenvalues is not None:
            self.load_state_dict({"eigenvalues": eigenvalues, "eigenvectors": eigenvectors})

    def fit(self, x: np.ndarray, chunk: int = 1024) -> FancyPCA:
        """Eigen-decompose the channel covariance of all pixels of ``x``
        (N, C, H, W), accumulated in float64 a chunk of images at a time."""
        batch, _ = as_image_batch(np.asarray(x, dtype=np.result_type(x, np.float32)), "FancyPCA.fit")
        c = batch.shape[1]
        total, outer, count = np.zeros(c), np.zeros((c, c)), 0
        for start in range(0, batch.shape[0], chunk):
            part = batch[start:start + chunk].astype(np.float64)
            pixels = part.transpose(1, 0, 2, 3).reshape(c, -1)
            total += pixels.sum(axis=1)
            outer += pixels @ pixels.T
            count += pixels.shape[1]
        if count < 2:
            raise ValueError("FancyPCA.fit needs at least two pixels")
        mean = total / count
        covariance = (outer - count * np.outer(mean, mean)) / (count - 1)
        self.eigenvalues, self.eigenvectors = np.linalg.eigh(covariance)
        return self

    def state_dict(self) -> dict[str, np.ndarray]:
        self._check_fitted()
        return {"eigenvalues": self.eigenvalues.copy(), "eigenvectors": self.eigenvectors.copy()}

    def load_state_dict(self, state: dict) -> None:
        values = np.asarray(state["eigenvalues"], dtype=np.float64).reshape(-1)
        vectors = np.asarray(state["eigenvectors"], dtype=np.float64)
        if vectors.shape != (values.size, values.size):
            raise ValueError(f"FancyPCA: eigenvectors must be ({values.size}, {values.size}) for "
                             f"{values.size} eigenvalues, got shape {vectors.shape}")
        self.eigenvalues, self.eigenvectors = values, vectors

    def _check_fitted(self) -> None:
        if self.eigenvalues is None:
            raise RuntimeError("FancyPCA is not fitted: call fit(train_images) first, or pass "
                               "eigenvalues and eigenvectors")

    def _apply(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        self._check_fitted()
        if x.shape[1] != self.eigenvalues.size:
            raise ValueError(f"FancyPCA was fitted on {self.eigenvalues.size} channels, got images with "
                             f"{x.shape[1]} channels")
        alphas = rng.normal(0.0, self.alpha_std, size=(x.shape[0], self.eigenvalues.size))
        shift = (alphas * self.eigenvalues) @ self.eigenvectors.T  # (N, C): sum_i a_i lambda_i p_i
        return (x + shift[:, :, None, None]).astype(x.dtype)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        self._check_fitted()
        return super().__call__(x)

    def _params(self) -> str:
        return f"alpha_std={self.alpha_std}, p={self.p}"
