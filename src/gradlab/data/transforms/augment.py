"""Pixel-grid augmentations: crop, flips, Cutout and additive noise.

All work on float NCHW batches (a single CHW image is a batch of one),
vectorized over the batch, draw from an explicit ``gradlab.Generator``, and
keep the shape and dtype of their input.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from gradlab.backend import Generator
from gradlab.data.transforms._base import BatchTransform, as_image_batch, check_nonnegative

__all__ = ["RandomCrop", "RandomHorizontalFlip", "RandomVerticalFlip", "Cutout", "GaussianNoise"]


def _pair(value: Any, owner: str, name: str) -> tuple[int, int]:
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = (value, value)
    if (not isinstance(value, (tuple, list)) or len(value) != 2
            or any(not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v <= 0 for v in value)):
        raise ValueError(f"{owner}: {name} must be a positive int or a pair of positive ints, got {value!r}")
    return int(value[0]), int(value[1])


def _padding(value: Any) -> tuple[int, int, int, int]:
    """(left, top, right, bottom), from an int, (lr, tb) or a 4-tuple, as torchvision."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = (value,) * 4
    elif isinstance(value, (tuple, list)) and len(value) == 2:
        value = (value[0], value[1], value[0], value[1])
    if (not isinstance(value, (tuple, list)) or len(value) != 4
            or any(not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 0 for v in value)):
        raise ValueError("RandomCrop: padding must be a non-negative int, a pair or a 4-tuple, "
                         f"got {value!r}")
    return tuple(int(v) for v in value)


class RandomCrop(BatchTransform):
    """Crop a random ``size`` window out of each image, after optional padding
    (the CIFAR recipe: pad 4, crop 32).

    With probability ``1 - p`` an image gets the central window instead (which
    is the image itself when ``size`` equals the input size and padding is
    symmetric).

    Args:
        size: output (height, width), or an int for a square.
        padding: pixels added on each border: int, (left/right, top/bottom) or
            (left, top, right, bottom), as torchvision.
        fill: value of constant padding.
        padding_mode: ``"constant"``, ``"edge"``, ``"reflect"`` or
            ``"symmetric"`` (NumPy's ``np.pad`` modes, torchvision's names).
        p: probability that an image gets a random window.
        generator: random source.

    Shape: (N, C, H, W) -> (N, C, size[0], size[1]).
    """

    _MODES = ("constant", "edge", "reflect", "symmetric")

    def __init__(self, size: int | tuple[int, int], padding: Any = 0, fill: float = 0.0,
                 padding_mode: str = "constant", p: float = 1.0, generator: Generator | None = None) -> None:
        super().__init__(p, generator)
        self.size = _pair(size, "RandomCrop", "size")
        self.padding = _padding(padding)
        if padding_mode not in self._MODES:
            raise ValueError(f"RandomCrop: padding_mode must be one of {self._MODES}, got {padding_mode!r}")
        self.padding_mode = padding_mode
        self.fill = float(fill)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        batch, single = as_image_batch(x, "RandomCrop")
        left, top, right, bottom = self.padding
        if any(self.padding):
            kwargs = {"constant_values": self.fill} if self.padding_mode == "constant" else {}
            batch = np.pad(batch, ((0, 0), (0, 0), (top, bottom), (left, right)),
                           mode=self.padding_mode, **kwargs)
        n, _, hp, wp = batch.shape
        h, w = self.size
        if h > hp or w > wp:
            raise ValueError(f"RandomCrop: crop size {self.size} is larger than the padded image "
                             f"({hp}, {wp})")
        rng = self.generator.numpy
        tops = rng.integers(0, hp - h + 1, size=n)
        lefts = rng.integers(0, wp - w + 1, size=n)
        if self.p < 1.0:
            keep = rng.random(n) >= self.p
            tops[keep], lefts[keep] = (hp - h) // 2, (wp - w) // 2
        windows = sliding_window_view(batch, (h, w), axis=(2, 3))
        # Advanced indices on axes 0, 2, 3 around a slice: the result is (N, C, h, w).
        out = windows[np.arange(n), :, tops, lefts]
        return out[0] if single else out

    def _params(self) -> str:
        return f"size={self.size}, padding={self.padding}, padding_mode={self.padding_mode!r}, p={self.p}"


class RandomHorizontalFlip(BatchTransform):
    """Mirror each image left-right with probability ``p`` (default 0.5)."""

    def __init__(self, p: float = 0.5, generator: Generator | None = None) -> None:
        super().__init__(p, generator)

    def _apply(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return x[..., ::-1].copy()


class RandomVerticalFlip(BatchTransform):
    """Mirror each image top-bottom with probability ``p`` (default 0.5)."""

    def __init__(self, p: float = 0.5, generator: Generator | None = None) -> None:
        super().__init__(p, generator)

    def _apply(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return x[..., ::-1, :].copy()


class Cutout(BatchTransform):
    """Set ``n_holes`` square patches of side ``size`` to ``fill``
    (DeVries & Taylor, "Improved Regularization of Convolutional Neural
    Networks with Cutout", 2017).

    As in the paper, each patch centre is uniform over the pixel positions,
    so a patch may lie partly outside the image and is then clipped. Every
    channel is cut.

    Args:
        size: side length of a patch in pixels.
        n_holes: patches per image.
        fill: value written into the patches (0; use the data mean for
            un-normalized images).
        p: probability that an image is cut.
        generator: random source.
    """

    def __init__(self, size: int, n_holes: int = 1, fill: float = 0.0, p: float = 1.0,
                 generator: Generator | None = None) -> None:
        super().__init__(p, generator)
        self.size = _pair(size, "Cutout", "size")[0]
        self.n_holes = _pair(n_holes, "Cutout", "n_holes")[0]
        self.fill = float(fill)

    def _apply(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        n, _, h, w = x.shape
        if self.size > min(h, w):
            # a patch wider than the image blanks all or most of every image
            raise ValueError(
                f"Cutout: size = {self.size} pixels is larger than the {h}x{w} images; expected at "
                f"most {min(h, w)} (the paper cuts about half the side: {min(h, w) // 2})"
            )
        cy = rng.integers(0, h, size=(n, self.n_holes))
        cx = rng.integers(0, w, size=(n, self.n_holes))
        y0, x0 = cy - self.size // 2, cx - self.size // 2
        rows = np.arange(h)[None, None, :, None]
        cols = np.arange(w)[None, None, None, :]
        inside = ((rows >= y0[:, :, None, None]) & (rows < (y0 + self.size)[:, :, None, None])
                  & (cols >= x0[:, :, None, None]) & (cols < (x0 + self.size)[:, :, None, None]))
        mask = inside.any(axis=1)[:, None]  # (N, 1, H, W), shared by the channels
        return np.where(mask, np.asarray(self.fill, dtype=x.dtype), x)

    def _params(self) -> str:
        return f"size={self.size}, n_holes={self.n_holes}, p={self.p}"


class GaussianNoise(BatchTransform):
    """Add independent Gaussian noise ``N(mean, std^2)`` to every pixel.

    Args:
        std: standard deviation of the noise.
        mean: mean of the noise.
        p: probability that an image gets noise.
        generator: random source.
    """

    def __init__(self, std: float = 0.1, mean: float = 0.0, p: float = 1.0,
                 generator: Generator | None = None) -> None:
        super().__init__(p, generator)
        self.std = check_nonnegative(std, "GaussianNoise", "std")
        self.mean = float(mean)

    def _apply(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        draw_dtype = x.dtype if x.dtype in (np.float32, np.float64) else np.float64
        noise = rng.standard_normal(size=x.shape, dtype=draw_dtype)
        return (x + (self.mean + self.std * noise)).astype(x.dtype, copy=False)

    def _params(self) -> str:
        return f"std={self.std}, mean={self.mean}, p={self.p}"
