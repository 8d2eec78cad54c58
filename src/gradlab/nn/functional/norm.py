"""Normalization, dropout, noise and embedding lookups."""

from __future__ import annotations

import math
import warnings
from typing import Any

from gradlab import backend, ops
from gradlab.autograd import is_grad_enabled, no_grad
from gradlab.autograd.node import Op
from gradlab.backend import Generator
from gradlab.kernels.dropout import dropout_forward
from gradlab.kernels.embedding import embedding_backward
from gradlab.kernels.norm import (
    batch_norm_backward,
    batch_norm_forward,
    layer_norm_backward,
    layer_norm_forward,
)
from gradlab.nn.functional._fused import recorded_grads
from gradlab.ops.elementwise import MulConst
from gradlab.tensor import Tensor

__all__ = [
    "batch_norm", "dropout", "dropout1d", "dropout2d", "dropout3d", "embedding", "gaussian_noise",
    "layer_norm", "stochastic_depth",
]


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,  # noqa: A002
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Batch normalization (Ioffe and Szegedy 2015) over every dimension but
    the channels (dimension 1):

        y = (x - mu) / sqrt(var + eps) * gamma + beta

    In training, mu and var are the batch's (var biased, i.e. divided by n),
    and the running estimates move towards them:
    ``running = (1 - momentum) running + momentum stat``, with the *unbiased*
    batch variance (n / (n - 1) var), as PyTorch does. Out of training the
    running estimates are used.
    """
    if input.ndim < 2:
        raise ValueError(
            f"batch_norm: expected at least a 2-D input (N, C, ...), got shape {tuple(input.shape)}"
        )
    axes = (0,) + tuple(range(2, input.ndim))
    shape = (1, input.shape[1]) + (1,) * (input.ndim - 2)
    if training:
        n = input.array.size // input.shape[1]
        if n <= 1:
            raise ValueError(
                f"Expected more than 1 value per channel when training, got input size {tuple(input.shape)}"
            )
        rows, order = channel_rows(input.array)
        xp = backend.array_module(rows)
        c = input.shape[1]
        w = weight.array if weight is not None else xp.ones(c, dtype=rows.dtype)
        b = bias.array if bias is not None else xp.zeros(c, dtype=rows.dtype)
        y, mean, var = batch_norm_forward(rows, w, b, eps)
        if running_mean is not None and running_var is not None:
            with no_grad():
                running_mean.mul_(1 - momentum).add_((mean * momentum).astype(running_mean.array.dtype))
                running_var.mul_(1 - momentum).add_(
                    (var * (momentum * n / (n - 1))).astype(running_var.array.dtype))
        params = [t for t in (weight, bias) if t is not None]
        return BatchNormTrain.apply(input, *params, axes=axes, shape=shape, eps=eps, order=order,
                                    rows=rows, mean=mean, invstd=1.0 / xp.sqrt(var + eps), y=y, w=w,
                                    affine=(weight is not None, bias is not None))
    if running_mean is None or running_var is None:
        raise RuntimeError("batch_norm: running_mean and running_var are needed when not training")
    out = (input - running_mean.reshape(shape)) * ops.rsqrt(running_var.reshape(shape) + eps)
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


def channel_rows(x: Any) -> tuple[Any, tuple[int, ...]]:
    """``x`` (N, C, *S) as a C-contiguous (C, M) array, and the order of
    x's axes that it flattens.

    Per-channel arithmetic on a (C, M) array runs along rows of M numbers;
    on the (N, C, *S) array it runs along the innermost axis, which after a
    convolution is the batch (see :mod:`gradlab.ops.conv`): runs of 32
    numbers, each paying NumPy's fixed cost, several times slower. The rows
    are a view when x is already laid out channel by channel (a
    convolution's output is), and a copy otherwise.
    """
    nd = x.ndim
    for order in ((1, *range(2, nd), 0), (1, 0, *range(2, nd))):
        view = x.transpose(order)
        if view.flags.c_contiguous:
            return view.reshape(x.shape[1], -1), order
    order = (1, 0, *range(2, nd))
    view = backend.array_module(x).ascontiguousarray(x.transpose(order))
    return view.reshape(x.shape[1], -1), order


def from_rows(rows: Any, order: tuple[int, ...], shape: tuple[int, ...]) -> Any:
    """The inverse of :func:`channel_rows`: (C, M) back to an array of
    ``shape`` (N, C, *S) (a view, in the rows' memory layout)."""
    inverse = [0] * len(order)
    for i, axis in enumerate(order):
        inverse[axis] = i
    return rows.reshape([shape[axis] for axis in order]).transpose(inverse)


class BatchNormTrain(Op):
    """Batch normalization with batch statistics, as one node:
    y = xhat gamma + beta with xhat = (x - mu) / sqrt(var + eps).

    With m values per channel, the gradient (Ioffe and Szegedy 2015, Sec. 3)
    simplifies to

        dx = gamma / sqrt(var + eps) * (g - mean(g) - xhat * mean(g xhat)),
        dgamma = sum(g xhat),   dbeta = sum(g),

    the means and sums over every axis but the channels. Forward and
    backward are the kernels of :mod:`gradlab.kernels.norm` on the (C, M)
    rows of x (see :func:`channel_rows`), with the batch's float64 mean and
    1 / sqrt(var + eps) kept from the forward. When the backward is recorded
    (``create_graph``), the same formula is built from Tensor ops on x, with
    mu and var recomputed from x, so that it can be differentiated again.
    """

    def forward(self, x, *params):
        y, self.y = self.y, None  # computed by the caller with the statistics
        return from_rows(y, self.order, x.shape)

    def backward(self, g):
        x = self.inputs[0]
        has_weight, has_bias = self.affine
        weight = self.inputs[1] if has_weight else None
        if is_grad_enabled():
            return self._differentiable(g, x, weight, has_bias)
        xp = backend.array_module(g.array)
        g_rows = xp.ascontiguousarray(g.array.transpose(self.order)).reshape(self.rows.shape)
        gx, gw, gb = batch_norm_backward(g_rows, self.rows, self.mean, self.invstd, self.w)
        grads = [Tensor._make(from_rows(gx, self.order, x.shape)) if x._rg else None]
        if has_weight:
            grads.append(Tensor._make(gw) if weight._rg else None)
        if has_bias:
            grads.append(Tensor._make(gb) if self.inputs[-1]._rg else None)
        return tuple(grads)

    def _differentiable(self, g, x, weight, has_bias):
        mean = x.mean(self.axes, keepdim=True)
        centered = x - mean
        invstd = ops.rsqrt((centered * centered).mean(self.axes, keepdim=True) + self.eps)
        xhat = centered * invstd
        gb = g.sum(self.axes, keepdim=True)
        gw = (g * xhat).sum(self.axes, keepdim=True)
        m = x.array.size // x.shape[1]
        scale = invstd if weight is None else invstd * weight.reshape(self.shape)
        grads = [(g - gb / m - xhat * (gw / m)) * scale]
        if weight is not None:
            grads.append(gw.reshape(-1))
        if has_bias:
            grads.append(gb.reshape(-1))
        return tuple(grads)


def layer_norm(input: Tensor, normalized_shape: Any, weight: Tensor | None = None,  # noqa: A002
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Layer normalization (Ba et al. 2016) over the trailing
    ``normalized_shape`` dimensions, with the biased variance."""
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if tuple(input.shape[input.ndim - len(shape):]) != shape:
        raise RuntimeError(
            f"layer_norm: normalized_shape {shape} does not match the trailing dimensions of the "
            f"input of shape {tuple(input.shape)}"
        )
    if weight is not None and tuple(weight.shape) != shape or bias is not None and tuple(bias.shape) != shape:
        raise RuntimeError(f"layer_norm: weight and bias must have the shape {shape}, got "
                           f"{None if weight is None else tuple(weight.shape)} and "
                           f"{None if bias is None else tuple(bias.shape)}")
    return LayerNorm.apply(*(t for t in (input, weight, bias) if t is not None), shape=shape, eps=eps,
                           affine=(weight is not None, bias is not None))


def _layer_norm_composed(input: Tensor, weight: Tensor | None, bias: Tensor | None,  # noqa: A002
                         shape: tuple, eps: float) -> Tensor:
    axes = tuple(range(input.ndim - len(shape), input.ndim))
    centered = input - input.mean(axes, keepdim=True)
    var = (centered * centered).mean(axes, keepdim=True)
    out = centered * ops.rsqrt(var + eps)
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


class LayerNorm(Op):
    """Layer normalization (Ba et al. 2016) as one node: the kernels of
    :mod:`gradlab.kernels.norm` on the (M, D) rows of the input (D the size
    of the normalized dimensions), the composed form when the backward is
    recorded."""

    def forward(self, x, *params):
        has_weight, has_bias = self.affine
        xp = backend.array_module(x)
        d = math.prod(self.shape)
        self.rows = xp.ascontiguousarray(x).reshape(-1, d)
        self.w = params[0].reshape(d) if has_weight else xp.ones(d, dtype=x.dtype)
        b = params[-1].reshape(d) if has_bias else xp.zeros(d, dtype=x.dtype)
        y, self.mean, self.invstd = layer_norm_forward(self.rows, self.w, b, self.eps)
        return y.reshape(x.shape)

    def backward(self, g):
        has_weight, has_bias = self.affine
        x = self.inputs[0]
        weight = self.inputs[1] if has_weight else None
        bias = self.inputs[-1] if has_bias else None
        if is_grad_enabled():
            return self._composed_grads(g, x, weight, bias)
        gx, gw, gb = layer_norm_backward(g.array.reshape(self.rows.shape), self.rows, self.mean,
                                         self.invstd, self.w)
        grads = [Tensor._make(gx.reshape(x.shape)) if x._rg else None]
        if has_weight:
            grads.append(Tensor._make(gw.reshape(self.shape)) if weight._rg else None)
        if has_bias:
            grads.append(Tensor._make(gb.reshape(self.shape)) if bias._rg else None)
        return tuple(grads)

    def _composed_grads(self, g, x, weight, bias):
        found = recorded_grads(lambda *a: _layer_norm_composed(*a, self.shape, self.eps),
                               (x, weight, bias), (g,))
        return tuple(t for t, present in zip(found, (True, weight is not None, bias is not None))
                     if present)


def _drop(input: Tensor, shape: tuple, q: float, scale: float,  # noqa: A002
          generator: Generator | None, inplace: bool = False) -> Tensor:
    """input * m * scale with m a 0/1 mask of ``shape`` (broadcast against
    the input), each entry 1 with probability q, drawn on the host (so a
    seed gives the same mask on every device). One graph node: the scaled
    mask is a constant of the product. ``inplace`` multiplies ``input``
    itself (recorded, as any in-place op)."""
    draws = backend.resolve_generator(generator).numpy.random(shape, dtype="float64")
    if shape == tuple(input.shape) and not inplace:
        return Dropout.apply(input, draws=backend.to_device(draws, input.device), keep=q, scale=scale)
    mask = (draws < q).astype(input.dtype)
    if scale != 1.0:
        mask *= scale
    mask = backend.to_device(mask, input.device)
    if inplace:
        return input.mul_(Tensor._make(mask))
    return MulConst.apply(input, c=mask)


class Dropout(MulConst):
    """x * m for the scaled 0/1 mask m made from the uniform ``draws`` in the
    same pass (:func:`gradlab.kernels.dropout.dropout_forward`); its
    backward is MulConst's, g * m."""

    def forward(self, x):
        out, self.c = dropout_forward(x, self.draws, self.keep, self.scale)
        self.draws = None
        return out


def _check_p(p: float, name: str) -> None:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{name} probability has to be between 0 and 1, but got {p}")


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False,  # noqa: A002
            generator: Generator | None = None, scale_at_test: bool = False) -> Tensor:
    """Dropout (Srivastava et al. 2014): zero each element with probability p.

    Inverted form (PyTorch's, the default): in training multiply the kept
    elements by 1 / (1 - p); at test return the input. Classic form of the
    paper (``scale_at_test=True``): keep activations unscaled in training and
    multiply by the keep probability 1 - p at test. Both preserve the
    expected activation between training and test.
    """
    _check_p(p, "dropout")
    q = 1.0 - p
    if not training:
        return input * q if scale_at_test and p > 0 else input
    if p == 0:
        return input
    if p == 1:
        return input.mul_(0.0) if inplace else input * 0.0
    return _drop(input, tuple(input.shape), q, 1.0 if scale_at_test else 1.0 / q, generator,
                 inplace)


def _feature_dropout(input: Tensor, p: float, training: bool, inplace: bool,  # noqa: A002
                     generator: Generator | None) -> Tensor:
    """Zero whole channels: one draw per (sample, channel) pair, i.e. a mask
    of shape (N, C, 1, ..., 1), kept ones scaled by 1 / (1 - p) (PyTorch's
    ``feature_dropout``; on a 2-D input that is elementwise dropout)."""
    if input.ndim < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input, "
                           f"got shape {tuple(input.shape)}")
    if not training or p == 0:
        return input
    shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2)
    if p == 1:
        return input.mul_(0.0) if inplace else input * 0.0
    return _drop(input, shape, 1.0 - p, 1.0 / (1.0 - p), generator, inplace)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False,  # noqa: A002
              generator: Generator | None = None) -> Tensor:
    """Channel dropout of sequences (Tompson et al. 2015): zero whole
    channels of an (N, C, L) or (C, L) input with probability p, scaling the
    kept ones by 1 / (1 - p)."""
    _check_p(p, "dropout")
    if input.ndim not in (2, 3):
        raise RuntimeError(
            f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D input. Note that "
            "dropout1d exists to provide channel-wise dropout on inputs with 1 spatial "
            "dimension, a channel dimension, and an optional batch dimension (i.e. 2D or 3D inputs)."
        )
    if input.ndim == 2:
        out = _feature_dropout(input.unsqueeze(0), p, training, inplace, generator)
        return out.squeeze(0)
    return _feature_dropout(input, p, training, inplace, generator)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False,  # noqa: A002
              generator: Generator | None = None) -> Tensor:
    """Channel dropout (Tompson et al. 2015): zero whole feature maps of an
    (N, C, H, W) input with probability p, scaling the kept ones by
    1 / (1 - p).

    As PyTorch 2.13: a 3-D input is taken as (N, C, L) (one draw per sample
    and channel, with a warning), and any other dimension than 3 or 4 warns
    and drops per (N, C) pair, which on a 2-D input is elementwise dropout.
    """
    _check_p(p, "dropout")
    _warn_dims("dropout2d", input.ndim, 2)
    if input.ndim == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D "
            "dropout behavior is desired - input is interpreted as shape (N, C, L), where C is "
            "the channel dim. This behavior will change in a future release to interpret the "
            "input as one without a batch dimension, i.e. shape (C, H, W). To maintain the 1D "
            "channel-wise dropout behavior, please switch to using dropout1d instead.",
            stacklevel=2,
        )
    return _feature_dropout(input, p, training, inplace, generator)


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False,  # noqa: A002
              generator: Generator | None = None) -> Tensor:
    """Channel dropout of volumes: zero whole (D, H, W) feature maps of an
    (N, C, D, H, W) or (C, D, H, W) input with probability p, scaling the
    kept ones by 1 / (1 - p)."""
    _check_p(p, "dropout")
    _warn_dims("dropout3d", input.ndim, 3)
    if input.ndim != 5:
        out = _feature_dropout(input.unsqueeze(0), p, training, inplace, generator)
        return out.squeeze(0)
    return _feature_dropout(input, p, training, inplace, generator)


def _warn_dims(name: str, ndim: int, spatial: int) -> None:
    if ndim not in (spatial + 1, spatial + 2):
        warnings.warn(
            f"{name}: Received a {ndim}-D input to {name}, which is deprecated and will result "
            f"in an error in a future release. To retain the behavior and silence this "
            f"warning, please use dropout instead. Note that {name} exists to provide "
            f"channel-wise dropout on inputs with {spatial} spatial dimensions, a channel "
            f"dimension, and an optional batch dimension (i.e. {spatial + 1}D or "
            f"{spatial + 2}D inputs).",
            stacklevel=3,
        )


def gaussian_noise(input: Tensor, std: float = 0.1, training: bool = True,  # noqa: A002
                   generator: Generator | None = None) -> Tensor:
    """x + N(0, std^2) noise in training (noise injection, Sietsma and Dow
    1991; Keras's GaussianNoise); the identity otherwise."""
    if std < 0:
        raise ValueError(f"gaussian_noise: std must be non-negative, got {std}")
    if not training or std == 0:
        return input
    noise = backend.resolve_generator(generator).normal(tuple(input.shape), 0.0, std, dtype=input.dtype)
    return input + Tensor._make(backend.to_device(noise, input.device))


def stochastic_depth(input: Tensor, p: float, mode: str = "row", training: bool = True,  # noqa: A002
                     generator: Generator | None = None) -> Tensor:
    """Drop a residual branch with probability p (Huang et al. 2016), as
    torchvision's ``stochastic_depth``: ``mode="row"`` drops per sample,
    ``"batch"`` the whole batch; survivors are scaled by 1 / (1 - p) in
    training (the paper instead scales by the survival probability at test;
    the expectations agree)."""
    _check_p(p, "drop")
    if mode not in ("row", "batch"):
        raise ValueError(f"mode has to be either 'batch' or 'row', but got {mode!r}")
    if not training or p == 0:
        return input
    if p == 1:
        return input * 0.0
    shape = (input.shape[0],) + (1,) * (input.ndim - 1) if mode == "row" else (1,) * input.ndim
    return _drop(input, shape, 1.0 - p, 1.0 / (1.0 - p), generator)


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None,  # noqa: A002
              max_norm: float | None = None) -> Tensor:
    """Rows of ``weight`` picked by the integer ``input``; the row
    ``padding_idx`` gets no gradient."""
    if max_norm is not None:
        raise NotImplementedError("embedding: max_norm is not supported")
    if input.array.dtype.kind not in "iu":
        raise RuntimeError(f"embedding: expected an integer index tensor, got dtype {input.dtype}")
    n = weight.shape[0]
    idx = input.array
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        raise IndexError(f"embedding: index {int(idx.max() if idx.max() >= n else idx.min())} "
                         f"is out of range for {n} embeddings")
    if padding_idx is not None:
        padding_idx = padding_idx % n
    if weight.ndim != 2:
        return _embedding_composed(weight, input, padding_idx)
    return EmbeddingLookup.apply(weight, index=idx, padding_idx=padding_idx, lookup=input)


def _embedding_composed(weight: Tensor, input: Tensor, padding_idx: int | None) -> Tensor:  # noqa: A002
    out = weight[input]
    if padding_idx is not None:
        out = ops.where((input.array == padding_idx)[..., None], out.detach(), out)
    return out


class EmbeddingLookup(Op):
    """weight[index] as one node; its backward adds each row of the output
    gradient onto the row of the table it was read from (the scatter-add
    kernel of :mod:`gradlab.kernels.embedding`), skipping ``padding_idx``."""

    reads_inputs = False

    def forward(self, weight):
        self.rows = weight.shape[0]
        return weight[self.index]

    def backward(self, g):
        if is_grad_enabled():
            return recorded_grads(lambda w: _embedding_composed(w, self.lookup, self.padding_idx),
                                  self.inputs, (g,))[0]
        flat = g.array.reshape(-1, g.shape[-1])
        pad = -1 if self.padding_idx is None else self.padding_idx
        return Tensor._make(embedding_backward(flat, self.index.reshape(-1), self.rows, pad))


