"""Resizing, as ``torch.nn.functional.interpolate``.

Every mode resizes one spatial axis at a time (all of them are separable):

- ``nearest``: out[i] = in[min(floor(i * scale), S_in - 1)], scale =
  1 / scale_factor when given, else S_in / S_out (computed in float32, as
  PyTorch's kernel does, so the picked indices agree);
  ``nearest-exact``: floor((i + 0.5) * scale), the pixel-centre rule.
- ``linear`` / ``bilinear`` / ``trilinear``: each output pixel mixes its two
  nearest input pixels, source coordinate
  ``(i + 0.5) * scale - 0.5`` (clamped at 0) or, with ``align_corners=True``,
  ``i * (S_in - 1) / (S_out - 1)``. That is a (S_out, S_in) matrix with two
  non-zeros per row, applied by a matrix product along the axis.
- ``area``: adaptive average pooling to the output size.

Nearest is an index gather (its backward adds gradients back); linear is a
matrix product; both are differentiable ops, so every order of gradient
follows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from gradlab import backend
from gradlab.nn.functional.conv import adaptive_avg_pool1d, adaptive_avg_pool2d
from gradlab.ops.indexing import index_select
from gradlab.tensor import Tensor

__all__ = ["interpolate", "upsample"]

_LINEAR = {"linear": 1, "bilinear": 2, "trilinear": 3}
_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "trilinear", "area", "bicubic")


def _output_sizes(spatial: tuple, size: Any, scale_factor: Any, recompute: bool | None) -> tuple:
    """The output sizes and the scale (input / output) per axis that the
    kernels use: 1 / scale_factor unless it is recomputed from the sizes."""
    nd = len(spatial)
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        sizes = (size,) * nd if isinstance(size, int) else tuple(size)
        if len(sizes) != nd:
            raise ValueError("Input and output must have the same number of spatial dimensions, but got "
                             f"input with spatial dimensions of {list(spatial)} and output size of "
                             f"{list(sizes)}. Please provide input tensor in (N, C, d1, d2, ...,dK) format "
                             "and output size in (o1, o2, ...,oK) format.")
        if any(not isinstance(s, (int, np.integer)) or s < 1 for s in sizes):
            raise ValueError(f"size must hold positive ints, got {size!r}")
        return tuple(int(s) for s in sizes), (None,) * nd
    if scale_factor is None:
        raise ValueError("either size or scale_factor should be defined")
    scales = (scale_factor,) * nd if isinstance(scale_factor, (int, float)) else tuple(scale_factor)
    if len(scales) != nd:
        raise ValueError("Input and scale_factor must have the same number of spatial dimensions, but got "
                         f"input with spatial dimensions of {list(spatial)} and scale_factor of "
                         f"{list(scales)}.")
    if any(s <= 0 for s in scales):
        raise ValueError(f"scale_factor must be positive, got {scale_factor!r}")
    sizes = tuple(math.floor(float(n * s)) for n, s in zip(spatial, scales))
    if any(o < 1 for o in sizes):
        raise ValueError(f"scale_factor={scale_factor!r} gives an empty output for input size {spatial}")
    return sizes, (None,) * nd if recompute else tuple(float(s) for s in scales)


def _nearest_index(size_in: int, size_out: int, scale: float | None, exact: bool) -> np.ndarray:
    if size_out == size_in:
        return np.arange(size_out)
    # float32 arithmetic, as ATen's nearest_idx
    if scale is not None and scale > 0:
        step = np.float32(1.0 / scale)
    else:
        step = np.float32(size_in) / np.float32(size_out)
    dst = np.arange(size_out, dtype=np.float32) + (np.float32(0.5) if exact else np.float32(0))
    return np.minimum(np.floor(dst * step).astype(np.int64), size_in - 1)


def _linear_matrix(size_in: int, size_out: int, scale: float | None, align_corners: bool) -> np.ndarray:
    """(size_out, size_in) weights of linear interpolation along one axis."""
    dst = np.arange(size_out, dtype=np.float64)
    if align_corners:
        src = dst * ((size_in - 1) / (size_out - 1) if size_out > 1 else 0.0)
    else:
        step = 1.0 / scale if scale is not None and scale > 0 else size_in / size_out
        src = np.maximum((dst + 0.5) * step - 0.5, 0.0)
    lo = np.floor(src).astype(np.int64)
    hi = np.where(lo < size_in - 1, lo + 1, lo)
    frac = np.clip(src - lo, 0.0, 1.0)
    m = np.zeros((size_out, size_in))
    rows = np.arange(size_out)
    np.add.at(m, (rows, lo), 1.0 - frac)
    np.add.at(m, (rows, hi), frac)
    return m


def interpolate(input: Tensor, size: int | Sequence[int] | None = None,  # noqa: A002
                scale_factor: float | Sequence[float] | None = None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Tensor:
    """Resize the spatial axes of ``input`` (N, C, *S) to ``size`` or by
    ``scale_factor`` (output size floor(S * scale_factor)), as PyTorch's.

    Args:
        mode: ``"nearest"``, ``"nearest-exact"``, ``"linear"`` (3-D input),
            ``"bilinear"`` (4-D), ``"trilinear"`` (5-D) or ``"area"``.
        align_corners: for the linear modes: map the corner pixels' centres
            onto each other (default False).
        recompute_scale_factor: use S_in / S_out instead of the given
            scale_factor inside the kernel.

    Example:
        >>> import gradlab
        >>> interpolate(gradlab.ones(1, 1, 2, 2), scale_factor=2, mode="bilinear").shape
        (1, 1, 4, 4)
    """
    if mode not in _MODES:
        raise NotImplementedError(f"interpolate: mode={mode!r} is not one of {', '.join(_MODES[:-1])}")
    if mode == "bicubic":
        raise NotImplementedError("interpolate: mode='bicubic' is not implemented in gradlab yet; "
                                  "use 'bilinear'")
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not implemented in gradlab")
    if input.ndim < 3 or input.ndim > 5:
        raise ValueError(f"interpolate: expected a 3-D, 4-D or 5-D input (N, C, *spatial), got shape "
                         f"{tuple(input.shape)}")
    nd = input.ndim - 2
    if mode in _LINEAR:
        if _LINEAR[mode] != nd:
            raise NotImplementedError(f"Got {input.ndim}D input, but {mode} mode needs {_LINEAR[mode] + 2}D "
                                      "input")
        align_corners = bool(align_corners)
    elif align_corners is not None:
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    spatial = tuple(input.shape[2:])
    sizes, scales = _output_sizes(spatial, size, scale_factor, recompute_scale_factor)
    if mode == "area":
        if nd == 1:
            return adaptive_avg_pool1d(input, sizes)
        if nd == 2:
            return adaptive_avg_pool2d(input, sizes)
        raise NotImplementedError("interpolate: mode='area' takes 3-D or 4-D input in gradlab")
    out = input
    for axis, (n_in, n_out, scale) in enumerate(zip(spatial, sizes, scales)):
        dim = 2 + axis
        if mode in ("nearest", "nearest-exact"):
            idx = _nearest_index(n_in, n_out, scale, exact=mode == "nearest-exact")
            if n_out != n_in:
                out = index_select(out, dim, Tensor._make(backend.to_device(idx, input.device)))
        else:
            m = _linear_matrix(n_in, n_out, scale, align_corners).astype(input.dtype)
            m = Tensor._make(backend.to_device(m, input.device))
            out = (out.transpose(dim, -1) @ m.mT).transpose(dim, -1)
    return out


def upsample(input: Tensor, size: Any = None, scale_factor: Any = None, mode: str = "nearest",  # noqa: A002
             align_corners: bool | None = None) -> Tensor:
    """PyTorch's deprecated name for :func:`interpolate`."""
    return interpolate(input, size, scale_factor, mode, align_corners)
