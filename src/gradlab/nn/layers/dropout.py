"""Dropout and noise layers: random in training, deterministic in eval."""

from __future__ import annotations

from gradlab.backend import Generator
from gradlab.nn import functional as F
from gradlab.nn.module import Module
from gradlab.tensor import Tensor


class Dropout(Module):
    """Zero each element with probability p in training (Srivastava et al. 2014).

    Args:
        p: drop probability.
        scale_at_test: False (PyTorch's inverted dropout) scales kept units by
            1 / (1 - p) in training and is the identity in eval; True (the
            paper's classic form) leaves training activations unscaled and
            multiplies by 1 - p in eval.
        generator: source of the masks (default generator otherwise).
    """

    def __init__(self, p: float = 0.5, inplace: bool = False, *, scale_at_test: bool = False,
                 generator: Generator | None = None) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace, self.scale_at_test, self.generator = p, inplace, scale_at_test, generator

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.dropout(input, self.p, self.training, self.inplace, generator=self.generator,
                         scale_at_test=self.scale_at_test)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}" + (", scale_at_test=True" if self.scale_at_test else "")


class _FeatureDropout(Module):
    """Zero whole channels with probability p, kept ones scaled by
    1 / (1 - p) (Tompson et al. 2015, "Efficient object localization using
    convolutional networks"); the identity in eval."""

    def __init__(self, p: float = 0.5, inplace: bool = False, *, generator: Generator | None = None) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace, self.generator = p, inplace, generator

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout1d(_FeatureDropout):
    """Zero whole channels of (N, C, L) or (C, L) with probability p."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.dropout1d(input, self.p, self.training, self.inplace, generator=self.generator)


class Dropout2d(_FeatureDropout):
    """Zero whole channels of (N, C, H, W) with probability p. As PyTorch
    2.13, a 3-D input is taken as (N, C, L) with a warning, and a 2-D one
    drops elementwise with a warning (see ``F.dropout2d``)."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.dropout2d(input, self.p, self.training, self.inplace, generator=self.generator)


class Dropout3d(_FeatureDropout):
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) with probability p."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.dropout3d(input, self.p, self.training, self.inplace, generator=self.generator)


class StochasticDepth(Module):
    """Randomly drop a residual branch (Huang et al. 2016), as torchvision's
    ``StochasticDepth(p, mode)``: apply it to the branch before adding the
    shortcut, ``x + StochasticDepth(p)(f(x))``. Survivors are scaled by
    1 / (1 - p) in training; eval is the identity."""

    def __init__(self, p: float, mode: str = "row", *, generator: Generator | None = None) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"drop probability has to be between 0 and 1, but got {p}")
        if mode not in ("row", "batch"):
            raise ValueError(f"mode has to be either 'batch' or 'row', but got {mode!r}")
        self.p, self.mode, self.generator = p, mode, generator

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.stochastic_depth(input, self.p, self.mode, self.training, self.generator)

    def extra_repr(self) -> str:
        return f"p={self.p}, mode={self.mode}"


class GaussianNoise(Module):
    """Add N(0, std^2) noise in training (noise injection; Keras's
    GaussianNoise, not in PyTorch); the identity in eval."""

    def __init__(self, std: float = 0.1, *, generator: Generator | None = None) -> None:
        super().__init__()
        if std < 0:
            raise ValueError(f"std must be non-negative, got {std}")
        self.std, self.generator = std, generator

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.gaussian_noise(input, self.std, self.training, self.generator)

    def extra_repr(self) -> str:
        return f"std={self.std}"
