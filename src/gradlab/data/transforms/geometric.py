"""Geometric augmentations by resampling: rotation, scaling, translation,
general affine maps and elastic deformation.

Each image is warped by an inverse mapping: output pixel ``o`` takes the
input value at ``A^{-1} (o - c - t) + c``, where ``c`` is the image centre,
``A`` the 2x2 forward map and ``t`` the translation, interpolated
bilinearly (:func:`resample`). The whole batch is resampled at once.

Coordinates are (row, column), rows pointing down. A positive angle turns
the picture counter-clockwise as displayed, as torchvision's
``RandomRotation`` does; rotating a square image by 90 degrees gives
``np.rot90(x, 1, axes=(-2, -1))``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import ndimage

from gradlab.backend import Generator
from gradlab.data.transforms._base import BatchTransform, as_range, check_nonnegative

__all__ = ["RandomRotation", "RandomScale", "RandomTranslate", "RandomAffine", "ElasticDeform"]


def _check_order(order: Any, owner: str) -> int:
    # Higher spline orders prefilter along every axis, which would blend the
    # merged batch/channel axis: only nearest (0) and linear (1) are offered.
    if order not in (0, 1):
        raise ValueError(f"{owner}: order must be 0 (nearest) or 1 (bilinear), got {order!r}")
    return int(order)


def resample(x: np.ndarray, rows: np.ndarray, cols: np.ndarray, order: int = 1,
             fill: float = 0.0) -> np.ndarray:
    """Sample each image of ``x`` (N, C, H, W) at per-image source positions
    ``rows``, ``cols`` (N, H', W'), shared by the channels; points outside
    the image read ``fill``.

    Linear interpolation (``order=1``) weighs the four pixels around a
    position, (1 - a)(1 - b) x[r, c] + (1 - a) b x[r, c + 1] + a (1 - b)
    x[r + 1, c] + a b x[r + 1, c + 1] with r, c the integer parts and a, b
    the fractions; nearest (``order=0``) reads pixel (floor(r + 1/2),
    floor(c + 1/2)). Both are what ``scipy.ndimage.map_coordinates`` does
    with ``mode="nearest"`` on the image framed by a one-pixel border of
    ``fill``; that border gives exactly PyTorch's ``grid_sample`` with zero
    padding (interpolation towards the fill across the edge, the fill
    beyond). They are written out here as four gathers because
    ``map_coordinates`` would treat the batch as a third spatial axis and
    interpolate along it too, five times slower on a batch of digits.
    """
    n, c, h, w = x.shape
    # Framed by one pixel of ``fill`` before and two after, so that positions
    # clamped to [0, h + 1] x [0, w + 1] (everything beyond reads the fill)
    # have all four neighbours inside.
    framed = np.pad(x, ((0, 0), (0, 0), (1, 2), (1, 2)), constant_values=fill)
    stride = w + 3
    # Snap positions within 1e-6 of a pixel centre onto it: an exact rotation by
    # 90 degrees or an integer shift then copies pixels bit for bit, instead of
    # blending in a trace of a neighbour because cos(pi/2) is 6e-17, not 0.
    rows, cols = (np.where(np.abs(v - np.rint(v)) < 1e-6, np.rint(v), v) + 1.0 for v in (rows, cols))
    rows, cols = np.clip(rows, 0, h + 1), np.clip(cols, 0, w + 1)
    if order == 0:
        rows, cols = np.floor(rows + 0.5), np.floor(cols + 0.5)
    r0, c0 = np.floor(rows), np.floor(cols)
    # flat index of each position's top-left neighbour, for every channel: (N, C, H', W')
    first = (np.arange(n * c) * ((h + 3) * stride)).reshape(n, c, 1, 1)
    index = first + (r0 * stride + c0).astype(np.intp)[:, None]
    flat = framed.reshape(-1)
    if order == 0:
        return flat[index]
    a, b = (rows - r0)[:, None], (cols - c0)[:, None]
    top, right = flat[index], flat[index + 1]
    top += (right - top) * b
    bottom, right = flat[index + stride], flat[index + stride + 1]
    bottom += (right - bottom) * b
    top += (bottom - top) * a
    return top.astype(x.dtype, copy=False)


def _inverse_2x2(matrices: np.ndarray) -> np.ndarray:
    """[[a, b], [c, d]]^-1 = [[d, -b], [-c, a]] / (ad - bc) for (N, 2, 2)
    matrices (``np.linalg.inv`` costs ten times as much on a batch of 2x2)."""
    det = matrices[:, 0, 0] * matrices[:, 1, 1] - matrices[:, 0, 1] * matrices[:, 1, 0]
    if not np.all(det):
        raise ValueError("warp_affine: a transform matrix is singular (it flattens the image)")
    adjugate = matrices[:, ::-1, ::-1].transpose(0, 2, 1) * np.array([[1.0, -1.0], [-1.0, 1.0]])
    return adjugate / det[:, None, None]


def warp_affine(x: np.ndarray, matrices: np.ndarray, shifts: np.ndarray, order: int = 1,
                fill: float = 0.0) -> np.ndarray:
    """Apply per-image forward maps ``matrices`` (N, 2, 2) about the image
    centre followed by ``shifts`` (N, 2) in pixels (rows, columns)."""
    n, _, h, w = x.shape
    centre = np.array([(h - 1) / 2.0, (w - 1) / 2.0])
    grid = np.stack(np.meshgrid(np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64),
                                indexing="ij"))  # (2, H, W)
    offset = grid[None] - (centre + shifts)[:, :, None, None]  # (N, 2, H, W)
    source = np.einsum("nij,njhw->nihw", _inverse_2x2(matrices), offset) + centre[None, :, None, None]
    return resample(x, source[:, 0], source[:, 1], order, fill)


def rotation_matrices(degrees: np.ndarray) -> np.ndarray:
    """Counter-clockwise (as displayed) rotations in (row, column) coordinates."""
    theta = np.deg2rad(degrees)
    cos, sin = np.cos(theta), np.sin(theta)
    return np.stack([np.stack([cos, -sin], -1), np.stack([sin, cos], -1)], -2)


class _AffineTransform(BatchTransform):
    """Shared machinery: subclasses draw ``(matrices, shifts)`` for n images."""

    def __init__(self, p: float, generator: Generator | None, order: int, fill: float) -> None:
        super().__init__(p, generator)
        self.order = _check_order(order, type(self).__name__)
        self.fill = float(fill)

    def _draw(self, n: int, h: int, w: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def _apply(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        matrices, shifts = self._draw(x.shape[0], x.shape[2], x.shape[3], rng)
        return warp_affine(x, matrices, shifts, self.order, self.fill)


def _draw_shifts(translate: tuple[float, float] | None, n: int, h: int, w: int,
                 rng: np.random.Generator) -> np.ndarray:
    if translate is None:
        return np.zeros((n, 2))
    fx, fy = translate
    # Whole pixels, as torchvision rounds them: a shift then copies pixels exactly.
    rows = np.rint(rng.uniform(-fy * h, fy * h, size=n))
    cols = np.rint(rng.uniform(-fx * w, fx * w, size=n))
    return np.stack([rows, cols], axis=1)


def _check_translate(translate: Any, owner: str) -> tuple[float, float]:
    if (not isinstance(translate, (tuple, list)) or len(translate) != 2
            or any(not 0.0 <= float(t) <= 1.0 for t in translate)):
        raise ValueError(f"{owner}: translate must be a pair (fx, fy) of fractions in [0, 1], "
                         f"got {translate!r}")
    return float(translate[0]), float(translate[1])


class RandomRotation(_AffineTransform):
    """Rotate each image about its centre by an angle uniform in ``degrees``.

    Args:
        degrees: a number d for (-d, d), or a (min, max) pair, in degrees.
        order: 0 nearest or 1 bilinear interpolation.
        fill: value of pixels rotated in from outside the image.
        p: probability that an image is rotated.
        generator: random source.
    """

    def __init__(self, degrees: float | tuple[float, float], order: int = 1, fill: float = 0.0,
                 p: float = 1.0, generator: Generator | None = None) -> None:
        super().__init__(p, generator, order, fill)
        self.degrees = as_range(degrees, "RandomRotation", "degrees")

    def _draw(self, n, h, w, rng):
        return rotation_matrices(rng.uniform(*self.degrees, size=n)), np.zeros((n, 2))

    def _params(self) -> str:
        return f"degrees={self.degrees}, p={self.p}"


class RandomScale(_AffineTransform):
    """Zoom each image about its centre by a factor uniform in ``scale``,
    keeping its size (> 1 zooms in and crops, < 1 zooms out and fills)."""

    def __init__(self, scale: tuple[float, float] = (0.9, 1.1), order: int = 1, fill: float = 0.0,
                 p: float = 1.0, generator: Generator | None = None) -> None:
        super().__init__(p, generator, order, fill)
        self.scale = as_range(scale, "RandomScale", "scale")
        if self.scale[0] <= 0:
            raise ValueError(f"RandomScale: scale factors must be positive, got {scale!r}")

    def _draw(self, n, h, w, rng):
        factors = rng.uniform(*self.scale, size=n)
        return factors[:, None, None] * np.eye(2), np.zeros((n, 2))

    def _params(self) -> str:
        return f"scale={self.scale}, p={self.p}"


class RandomTranslate(_AffineTransform):
    """Shift each image by whole pixels, up to ``fx * W`` horizontally and
    ``fy * H`` vertically (torchvision's ``translate`` of RandomAffine)."""

    def __init__(self, translate: tuple[float, float] = (0.1, 0.1), fill: float = 0.0,
                 p: float = 1.0, generator: Generator | None = None) -> None:
        super().__init__(p, generator, 0, fill)
        self.translate = _check_translate(translate, "RandomTranslate")

    def _draw(self, n, h, w, rng):
        return np.broadcast_to(np.eye(2), (n, 2, 2)).copy(), _draw_shifts(self.translate, n, h, w, rng)

    def _params(self) -> str:
        return f"translate={self.translate}, p={self.p}"


class RandomAffine(_AffineTransform):
    """Rotation, scaling, horizontal shear and translation in one resampling,
    as torchvision's ``RandomAffine``.

    The forward map is ``A = R(angle) Sh(shear) S(scale)`` about the centre,
    then the shift; ``Sh`` moves column ``x`` to ``x + tan(shear) * row``
    (a shear parallel to the x axis, torchvision's first shear angle).

    Args:
        degrees: rotation range (d for (-d, d)).
        translate: (fx, fy), maximal fractions of width and height, or None.
        scale: (min, max) zoom factors, or None.
        shear: a number s for (-s, s) or a pair, in degrees, or None.
        order, fill, p, generator: as RandomRotation.
    """

    def __init__(self, degrees: float | tuple[float, float] = 0.0,
                 translate: tuple[float, float] | None = None,
                 scale: tuple[float, float] | None = None,
                 shear: float | tuple[float, float] | None = None,
                 order: int = 1, fill: float = 0.0, p: float = 1.0,
                 generator: Generator | None = None) -> None:
        super().__init__(p, generator, order, fill)
        self.degrees = as_range(degrees, "RandomAffine", "degrees")
        self.translate = None if translate is None else _check_translate(translate, "RandomAffine")
        self.scale = None if scale is None else as_range(scale, "RandomAffine", "scale")
        if self.scale is not None and self.scale[0] <= 0:
            raise ValueError(f"RandomAffine: scale factors must be positive, got {scale!r}")
        self.shear = None if shear is None else as_range(shear, "RandomAffine", "shear")

    def _draw(self, n, h, w, rng):
        rotation = rotation_matrices(rng.uniform(*self.degrees, size=n))
        shifts = _draw_shifts(self.translate, n, h, w, rng)
        factors = np.ones(n) if self.scale is None else rng.uniform(*self.scale, size=n)
        shear = np.zeros((n, 2, 2))
        shear[:, 0, 0] = shear[:, 1, 1] = 1.0
        if self.shear is not None:
            shear[:, 1, 0] = np.tan(np.deg2rad(rng.uniform(*self.shear, size=n)))
        return rotation @ shear * factors[:, None, None], shifts

    def _params(self) -> str:
        return (f"degrees={self.degrees}, translate={self.translate}, scale={self.scale}, "
                f"shear={self.shear}, p={self.p}")


class ElasticDeform(BatchTransform):
    """Elastic distortion (Simard, Steinkraus & Platt, "Best Practices for
    Convolutional Neural Networks Applied to Visual Document Analysis", 2003).

    Each pixel moves by ``alpha * (G_sigma * U)``: a field ``U`` of independent
    uniform(-1, 1) displacements per pixel and direction, smoothed by a
    Gaussian of width ``sigma`` (``scipy.ndimage.gaussian_filter``) and scaled
    by ``alpha``. Small ``sigma`` gives nearly random moves, large ``sigma``
    nearly a translation; the paper used sigma = 4 and alpha = 34 on 28x28
    digits. All channels of an image share one field.

    Args:
        alpha: displacement scale in pixels.
        sigma: standard deviation of the smoothing Gaussian in pixels.
        order, fill, p, generator: as RandomRotation.
    """

    def __init__(self, alpha: float = 34.0, sigma: float = 4.0, order: int = 1, fill: float = 0.0,
                 p: float = 1.0, generator: Generator | None = None) -> None:
        super().__init__(p, generator)
        self.alpha = check_nonnegative(alpha, "ElasticDeform", "alpha")
        self.sigma = check_nonnegative(sigma, "ElasticDeform", "sigma")
        self.order = _check_order(order, "ElasticDeform")
        self.fill = float(fill)

    def _apply(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        n, _, h, w = x.shape
        field = rng.uniform(-1.0, 1.0, size=(n, 2, h, w))
        field = ndimage.gaussian_filter(field, sigma=(0, 0, self.sigma, self.sigma), mode="constant")
        rows, cols = np.meshgrid(np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64),
                                 indexing="ij")
        return resample(x, rows + self.alpha * field[:, 0], cols + self.alpha * field[:, 1],
                        self.order, self.fill)

    def _params(self) -> str:
        return f"alpha={self.alpha}, sigma={self.sigma}, p={self.p}"
