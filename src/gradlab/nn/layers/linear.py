"""Linear, Flatten, Unflatten and Maxout."""

from __future__ import annotations

from typing import Any

from gradlab.backend import Generator
from gradlab.nn import functional as F
from gradlab.nn.layers._factory import check_positive, default_init_, new_parameter
from gradlab.nn.module import Module
from gradlab.tensor import Tensor


class Linear(Module):
    """y = x W^T + b.

    Args:
        in_features, out_features: sizes of each input and output sample.
        bias: whether to learn b.
        generator: source of the initial weights (gradlab addition).

    Shape: (*, in_features) -> (*, out_features).

    Weights are initialized as PyTorch's: W ~ U(-1/sqrt(in), 1/sqrt(in))
    (``kaiming_uniform_`` with a = sqrt(5)) and b likewise.

    Example:
        >>> import gradlab
        >>> gradlab.nn.Linear(3, 2)(gradlab.zeros(4, 3)).shape
        (4, 2)
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device: Any = None,
                 dtype: Any = None, *, generator: Generator | None = None) -> None:
        super().__init__()
        self.in_features = check_positive(in_features, "in_features")
        self.out_features = check_positive(out_features, "out_features")
        self.weight = new_parameter(out_features, in_features, device=device, dtype=dtype)
        if bias:
            self.bias = new_parameter(out_features, device=device, dtype=dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters(generator)

    def reset_parameters(self, generator: Generator | None = None) -> None:
        """PyTorch's default: W, b ~ U(-1/sqrt(in_features), 1/sqrt(in_features))."""
        default_init_(self.weight, self.bias, generator)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Flatten(Module):
    """Flatten dimensions start_dim..end_dim (by default all but the batch)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dimension ``dim`` into ``unflattened_size``."""

    def __init__(self, dim: int, unflattened_size: tuple) -> None:
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return input.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class Maxout(Module):
    """Maxout unit (Goodfellow et al. 2013): ``pieces`` affine maps and their
    elementwise maximum,

        y_j = max_k (x W_k^T + b_k)_j,   k = 1..pieces.

    Not in PyTorch. The parameters are one Linear of ``out_features * pieces``
    outputs (``linear.weight``, ``linear.bias``), the pieces of unit j being
    rows j * pieces .. j * pieces + pieces - 1. The gradient of a tie is
    shared evenly between the tied pieces.

    Shape: (*, in_features) -> (*, out_features).
    """

    def __init__(self, in_features: int, out_features: int, pieces: int, bias: bool = True,
                 device: Any = None, dtype: Any = None, *, generator: Generator | None = None) -> None:
        super().__init__()
        self.in_features = check_positive(in_features, "in_features")
        self.out_features = check_positive(out_features, "out_features")
        self.pieces = check_positive(pieces, "pieces")
        self.linear = Linear(in_features, out_features * pieces, bias, device, dtype, generator=generator)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        z = self.linear(input)
        return z.reshape(*z.shape[:-1], self.out_features, self.pieces).amax(-1)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, pieces={self.pieces}"
