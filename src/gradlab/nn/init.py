"""Weight initializers, as ``torch.nn.init``: each fills a tensor in place
(without recording a graph) and returns it, and each takes an optional
:class:`gradlab.Generator` (the default generator otherwise).

For a weight of shape (out, in, *kernel), fan_in = in * prod(kernel) and
fan_out = out * prod(kernel). The variance-preserving schemes choose

    Var(W) = gain^2 * 2 / (fan_in + fan_out)   Xavier/Glorot (Glorot and Bengio 2010)
    Var(W) = gain^2 / fan                      He/Kaiming (He et al. 2015), gain^2 = 2 / (1 + a^2)
    Var(W) = 1 / fan_in                        LeCun (LeCun et al. 1998)

and a uniform on [-b, b] has variance b^2 / 3, so b = sqrt(3) * std.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gradlab import backend
from gradlab.autograd import no_grad
from gradlab.backend import Generator
from gradlab.tensor import Tensor

__all__ = [
    "calculate_gain", "constant_", "kaiming_normal_", "kaiming_uniform_", "lecun_normal_",
    "lecun_uniform_", "normal_", "ones_", "orthogonal_", "sparse_", "uniform_", "xavier_normal_",
    "xavier_uniform_", "zeros_",
]


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The gain that keeps activations' variance through ``nonlinearity``:
    1 for linear, conv and sigmoid; 5/3 for tanh; sqrt(2) for relu;
    sqrt(2 / (1 + slope^2)) for leaky_relu (slope default 0.01); 3/4 for selu
    (PyTorch's values)."""
    linear = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
              "conv_transpose3d", "sigmoid")
    if nonlinearity in linear:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    if tensor.ndim < 2:
        raise ValueError(
            "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions "
            f"(got shape {tuple(tensor.shape)})"
        )
    receptive = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _fan(tensor: Tensor, mode: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _rng(generator: Generator | None) -> np.random.Generator:
    return backend.resolve_generator(generator).numpy


def _fill(tensor: Tensor, values: Any) -> Tensor:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"expected a gradlab.Tensor to initialize, got {type(tensor).__name__}")
    with no_grad():
        tensor.copy_(np.asarray(values, dtype=tensor.dtype))
    return tensor


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator: Generator | None = None) -> Tensor:
    """Fill with U(a, b)."""
    return _fill(tensor, _rng(generator).uniform(a, b, tuple(tensor.shape)))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0,
            generator: Generator | None = None) -> Tensor:
    """Fill with N(mean, std^2)."""
    return _fill(tensor, _rng(generator).normal(mean, std, tuple(tensor.shape)))


def constant_(tensor: Tensor, val: float) -> Tensor:
    return _fill(tensor, np.full(tuple(tensor.shape), val))


def ones_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 1.0)


def zeros_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 0.0)


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator: Generator | None = None) -> Tensor:
    """U(-b, b) with b = gain sqrt(6 / (fan_in + fan_out)) (Glorot and Bengio 2010)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = math.sqrt(3.0) * gain * math.sqrt(2.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator: Generator | None = None) -> Tensor:
    """N(0, gain^2 2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def kaiming_uniform_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu", generator: Generator | None = None) -> Tensor:
    """U(-b, b) with b = gain sqrt(3 / fan) (He et al. 2015); ``a`` is the
    negative slope of a leaky ReLU/PReLU, giving variance 2 / ((1 + a^2) fan)."""
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu", generator: Generator | None = None) -> Tensor:
    """N(0, gain^2 / fan) (He et al. 2015)."""
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    return normal_(tensor, 0.0, std, generator)


def lecun_uniform_(tensor: Tensor, generator: Generator | None = None) -> Tensor:
    """U(-b, b) with b = sqrt(3 / fan_in) (LeCun et al. 1998; not in PyTorch)."""
    fan_in, _ = _calculate_fan_in_and_fan_out(tensor)
    bound = math.sqrt(3.0 / fan_in)
    return uniform_(tensor, -bound, bound, generator)


def lecun_normal_(tensor: Tensor, generator: Generator | None = None) -> Tensor:
    """N(0, 1 / fan_in) (LeCun et al. 1998; not in PyTorch). JAX and Keras
    truncate this normal at two standard deviations; gradlab does not."""
    fan_in, _ = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, 1.0 / math.sqrt(fan_in), generator)


def orthogonal_(tensor: Tensor, gain: float = 1.0, generator: Generator | None = None) -> Tensor:
    """A (semi-)orthogonal matrix scaled by ``gain`` (Saxe et al. 2014): the
    Q of the QR decomposition of a Gaussian matrix, with signs fixed by
    diag(R) so that Q is uniform (Haar) over orthogonal matrices. The tensor
    is viewed as (shape[0], numel / shape[0]); then W W^T = gain^2 I if it
    has no more rows than columns, else W^T W = gain^2 I."""
    if tensor.ndim < 2:
        raise ValueError(
            f"Only tensors with 2 or more dimensions are supported, got shape {tuple(tensor.shape)}"
        )
    if tensor.array.size == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.array.size // rows
    flat = _rng(generator).normal(0.0, 1.0, (rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _fill(tensor, (gain * q).reshape(tuple(tensor.shape)))


def sparse_(tensor: Tensor, sparsity: float = 0.9, std: float = 0.01, generator: Generator | None = None,
            *, nonzeros: int | None = None) -> Tensor:
    """A sparse 2-D weight (out, in) with N(0, std^2) non-zero entries.

    ``nonzeros=k`` gives Martens' (2010) sparse initialization: every unit
    (row) gets exactly k non-zero incoming weights (he used k = 15). Without
    it, PyTorch's rule: in every column a fraction ``sparsity`` of the
    entries, ceil(sparsity * rows), is zero.
    """
    if tensor.ndim != 2:
        raise ValueError(f"Only tensors with 2 dimensions are supported, got shape {tuple(tensor.shape)}")
    rows, cols = tensor.shape
    rng = _rng(generator)
    values = rng.normal(0.0, std, (rows, cols))
    if nonzeros is not None:
        if not 0 <= nonzeros <= cols:
            raise ValueError(f"nonzeros must be between 0 and the fan-in {cols}, got {nonzeros}")
        ranks = rng.random((rows, cols)).argsort(axis=1)
        values[ranks >= nonzeros] = 0.0
    else:
        if not 0.0 <= sparsity <= 1.0:
            raise ValueError(f"sparsity must be between 0 and 1, got {sparsity}")
        num_zeros = int(math.ceil(sparsity * rows))
        ranks = rng.random((rows, cols)).argsort(axis=0)
        values[ranks < num_zeros] = 0.0
    return _fill(tensor, values)
