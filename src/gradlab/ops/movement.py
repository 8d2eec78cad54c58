"""Shape operations: reshape, permute, expand, cat, pad, flip and the ones
composed from them (view, transpose, squeeze, stack, split, ...).

Each primitive's backward is the inverse movement: reshape back, permute by
the inverse permutation, sum an expanded gradient, slice a concatenation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from gradlab import backend
from gradlab.autograd.engine import sum_to
from gradlab.autograd.node import Op
from gradlab.ops._util import dims
from gradlab.tensor import Tensor, _wrap_dim


class Reshape(Op):
    reads_inputs = False

    def forward(self, x):
        self.src = x.shape
        return x.reshape(self.shape)

    def backward(self, g):
        return g.reshape(self.src)


class Permute(Op):
    reads_inputs = False

    def forward(self, x):
        return backend.array_module(x).transpose(x, self.order)

    def backward(self, g):
        inverse = [0] * len(self.order)
        for i, d in enumerate(self.order):
            inverse[d] = i
        return g.permute(*inverse)


class Expand(Op):
    reads_inputs = False

    def forward(self, x):
        self.src = x.shape
        return backend.array_module(x).broadcast_to(x, self.shape)

    def backward(self, g):
        return sum_to(g, self.src)


class Cat(Op):
    reads_inputs = False

    def forward(self, *arrays):
        self.sizes = [a.shape[self.axis] for a in arrays]
        return backend.array_module(arrays[0]).concatenate(arrays, axis=self.axis)

    def backward(self, g):
        grads, start = [], 0
        lead = (slice(None),) * self.axis
        for t, n in zip(self.inputs, self.sizes):
            grads.append(g[lead + (slice(start, start + n),)] if t._rg else None)
            start += n
        return tuple(grads)


class Pad(Op):
    reads_inputs = False

    def forward(self, x):
        self.crop = tuple(slice(lo, lo + n) for (lo, _), n in zip(self.widths, x.shape))
        return backend.array_module(x).pad(x, self.widths, constant_values=self.value)

    def backward(self, g):
        return g[self.crop]


class Flip(Op):
    reads_inputs = False

    def forward(self, x):
        return backend.array_module(x).flip(x, axis=self.axes)

    def backward(self, g):
        return g.flip(self.axes)


# ------------------------------------------------------------ functions
def _shape(shape: Sequence) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    for s in shape:
        if not isinstance(s, int) and not hasattr(s, "__index__"):
            raise TypeError(f"shape must be a sequence of ints, got {shape!r}")
    return tuple(int(s) for s in shape)


def reshape(x: Tensor, *shape: Any) -> Tensor:
    """The same elements in a new shape; one dimension may be -1."""
    shape = _shape(shape)
    if shape == x.shape:
        return x
    n = x.array.size
    known = math.prod(s for s in shape if s != -1)
    if shape.count(-1) > 1 or any(s < -1 for s in shape) or (
        -1 not in shape and known != n) or (-1 in shape and (known == 0 or n % known)):
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {n}")
    return Reshape.apply(x, shape=shape)


def view(x: Tensor, *shape: Any) -> Tensor:
    """As :func:`reshape` (gradlab does not track strides, so every view that
    PyTorch allows is allowed)."""
    if len(shape) == 1 and not isinstance(shape[0], (int, tuple, list)):
        return x.to(shape[0])  # view(dtype) is not a reinterpretation here
    return reshape(x, *shape)


def permute(x: Tensor, *order: Any) -> Tensor:
    order = _shape(order)
    if len(order) != x.ndim:
        raise RuntimeError(
            f"permute: number of dims don't match: got {len(order)} dims for a "
            f"tensor of {x.ndim} dims"
        )
    order = tuple(_wrap_dim(d, x.ndim) for d in order)
    if sorted(order) != list(range(x.ndim)):
        raise RuntimeError(f"permute: repeated dim in {order}")
    if order == tuple(range(x.ndim)):
        return x
    return Permute.apply(x, order=order)


def transpose(x: Tensor, dim0: int, dim1: int) -> Tensor:
    order = list(range(x.ndim))
    if x.ndim == 0:
        return x
    d0, d1 = _wrap_dim(dim0, x.ndim), _wrap_dim(dim1, x.ndim)
    order[d0], order[d1] = order[d1], order[d0]
    return permute(x, *order)


def t(x: Tensor) -> Tensor:
    if x.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {x.ndim}D")
    return transpose(x, 0, 1) if x.ndim == 2 else x


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    if x.ndim == 0:
        return reshape(x, 1)
    s, e = _wrap_dim(start_dim, x.ndim), _wrap_dim(end_dim, x.ndim)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    shape = x.shape[:s] + (math.prod(x.shape[s:e + 1]),) + x.shape[e + 1:]
    return reshape(x, shape)


def unflatten(x: Tensor, dim: int, sizes: Sequence[int]) -> Tensor:
    d = _wrap_dim(dim, x.ndim)
    return reshape(x, x.shape[:d] + tuple(sizes) + x.shape[d + 1:])


def squeeze(x: Tensor, dim: Any = None) -> Tensor:
    """Remove dimensions of size 1 (all, or those in ``dim``)."""
    axes = dims(dim, x.ndim) if dim is not None else range(x.ndim)
    shape = tuple(s for i, s in enumerate(x.shape) if not (i in axes and s == 1))
    return reshape(x, shape)


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    d = _wrap_dim(dim, x.ndim + 1)
    return reshape(x, x.shape[:d] + (1,) + x.shape[d:])


def expand(x: Tensor, *sizes: Any) -> Tensor:
    """Broadcast to ``sizes`` without copying; -1 keeps a dimension."""
    sizes = _shape(sizes)
    lead = len(sizes) - x.ndim
    if lead < 0:
        raise RuntimeError(
            f"expand: the number of sizes provided ({len(sizes)}) must be greater "
            f"or equal to the number of dimensions in the tensor ({x.ndim})"
        )
    shape = tuple(x.shape[i - lead] if s == -1 and i >= lead else s for i, s in enumerate(sizes))
    for i, s in enumerate(shape):
        if s < 0:
            raise RuntimeError(
                f"expand: the expanded size {sizes[i]} at dimension {i} is not allowed "
                f"(-1 only keeps an existing dimension); target sizes {list(sizes)}, "
                f"tensor shape {list(x.shape)}"
            )
    for i, s in enumerate(x.shape):
        if s != 1 and s != shape[i + lead]:
            raise RuntimeError(
                f"expand: the expanded size of the tensor ({shape[i + lead]}) must "
                f"match the existing size ({s}) at non-singleton dimension {i}; "
                f"target sizes {list(sizes)}, tensor shape {list(x.shape)}"
            )
    if shape == x.shape:
        return x
    return Expand.apply(x, shape=shape)


def expand_as(x: Tensor, other: Tensor) -> Tensor:
    return expand(x, other.shape)


def broadcast_to(x: Tensor, shape: Sequence[int]) -> Tensor:
    return expand(x, tuple(shape))


def repeat(x: Tensor, *repeats: Any) -> Tensor:
    """Tile the tensor ``repeats[i]`` times along each dimension."""
    repeats = _shape(repeats)
    if len(repeats) < x.ndim:
        raise RuntimeError("repeat: number of repeat dims can not be smaller than "
                           "number of dimensions of tensor")
    x = reshape(x, (1,) * (len(repeats) - x.ndim) + x.shape)
    interleaved = []
    for r, s in zip(repeats, x.shape):
        interleaved += [r, s]
    spread = reshape(x, tuple(v for s in x.shape for v in (1, s)))
    tiled = expand(spread, tuple(interleaved))
    return reshape(tiled, tuple(r * s for r, s in zip(repeats, x.shape)))


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors along an existing dimension."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat expects a non-empty list of Tensors")  # PyTorch's class
    from gradlab.ops._util import operands

    first = tensors[0]
    for i, t in enumerate(tensors):
        if t.ndim == 0:
            raise RuntimeError(f"cat: zero-dimensional tensor (at position {i}) cannot be concatenated")
    axis = _wrap_dim(dim, first.ndim)
    common = first
    for i, t in enumerate(tensors[1:], 1):
        if t.ndim != first.ndim or any(
            a != b for d, (a, b) in enumerate(zip(t.shape, first.shape)) if d != axis
        ):
            raise RuntimeError(
                f"cat: sizes of tensors must match except in dimension {axis}: "
                f"tensor 0 has shape {tuple(first.shape)}, tensor {i} has "
                f"shape {tuple(t.shape)}"
            )
        common, _ = operands(common, t, "cat")
    tensors = [t.to(common.dtype) for t in tensors]
    return Cat.apply(*tensors, axis=axis)


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors of one shape along a new dimension."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty list of Tensors")
    for i, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got "
                f"{list(tensors[0].shape)} at entry 0 and {list(t.shape)} at entry {i}"
            )
    d = _wrap_dim(dim, tensors[0].ndim + 1)
    return cat([unsqueeze(t, d) for t in tensors], d)


def split(x: Tensor, split_size_or_sections: int | Sequence[int], dim: int = 0) -> tuple:
    """Pieces of ``split_size`` (the last may be smaller) or of the listed
    sizes, along ``dim``."""
    d = _wrap_dim(dim, x.ndim)
    n = x.shape[d]
    if isinstance(split_size_or_sections, int):
        size = split_size_or_sections
        if size <= 0:
            raise ValueError(f"split_size must be positive, got {size}")
        sizes = [min(size, n - i) for i in range(0, n, size)] or [0]
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != n:
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {n} "
                f"(input tensor's size at dimension {d}), but got split_sizes={sizes}"
            )
    lead = (slice(None),) * d
    out, start = [], 0
    for s in sizes:
        out.append(x[lead + (slice(start, start + s),)])
        start += s
    return tuple(out)


def chunk(x: Tensor, chunks: int, dim: int = 0) -> tuple:
    if chunks <= 0:
        raise ValueError(f"chunk expects chunks to be greater than 0, got {chunks}")
    n = x.shape[_wrap_dim(dim, x.ndim)]
    return split(x, max(math.ceil(n / chunks), 1), dim)


def unbind(x: Tensor, dim: int = 0) -> tuple:
    d = _wrap_dim(dim, x.ndim)
    lead = (slice(None),) * d
    return tuple(x[lead + (i,)] for i in range(x.shape[d]))


# the NumPy np.pad mode that gives each PyTorch mode's source index
_INDEX_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def pad(x: Tensor, pad: Sequence[int], mode: str = "constant", value: float = 0.0) -> Tensor:
    """Pad the last ``len(pad) // 2`` dimensions; ``pad`` lists (before,
    after) pairs starting from the last dimension, as
    ``torch.nn.functional.pad``.

    ``mode``: "constant" (fill with ``value``), "reflect" (mirror without
    repeating the edge: 3 2 | 1 2 3 | 2 1), "replicate" (repeat the edge:
    1 1 | 1 2 3 | 3 3) or "circular" (wrap around: 2 3 | 1 2 3 | 1 2). The
    last three are gathers of the input (each output element copies one
    input element), so their gradient adds each output's gradient to the
    element it copied.
    """
    if mode not in ("constant", *_INDEX_MODES):
        raise ValueError(f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', got {mode!r}")
    pad = list(pad)
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ValueError(
            f"pad must have an even length of at most 2 * ndim ({2 * x.ndim}), got {pad}"
        )
    if any(p < 0 for p in pad):
        raise ValueError(f"pad: negative padding is not supported, got {pad}")
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    if mode == "constant":
        return Pad.apply(x, widths=tuple(widths), value=value)
    for d, (lo, hi) in enumerate(widths):
        if not (lo or hi):
            continue
        n = x.shape[d]
        if mode == "reflect" and max(lo, hi) >= n:
            raise RuntimeError(f"pad: reflect padding ({lo}, {hi}) must be less than the size {n} of "
                               f"dimension {d} of the input of shape {tuple(x.shape)}")
        if mode == "circular" and max(lo, hi) > n:
            raise RuntimeError(f"pad: circular padding ({lo}, {hi}) must be at most the size {n} of "
                               f"dimension {d} of the input of shape {tuple(x.shape)}")
        if n == 0:
            raise RuntimeError(f"pad: {mode} padding needs a non-empty dimension {d}, got shape "
                               f"{tuple(x.shape)}")
        source = np.pad(np.arange(n), (lo, hi), mode=_INDEX_MODES[mode])
        x = x[(slice(None),) * d + (source,)]
    return x


def flip(x: Tensor, dims_: Any) -> Tensor:
    return Flip.apply(x, axes=dims(dims_, x.ndim))


def contiguous(x: Tensor) -> Tensor:
    """``x`` itself when its array is C-contiguous, else a C-ordered copy
    (differentiable), as PyTorch's ``Tensor.contiguous``."""
    if x.array.flags.c_contiguous:
        return x
    from gradlab.ops.elementwise import clone  # elementwise imports this module

    return clone(x)
